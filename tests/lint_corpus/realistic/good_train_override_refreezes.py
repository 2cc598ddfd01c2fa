"""Detector backbone: train() is overridden so the BN freeze survives model.train()."""
import torch.nn as nn


def set_bn_eval(m):
    if isinstance(m, nn.BatchNorm2d):
        m.eval()


class ResNetBackbone(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 64, 7, 2, 3), nn.BatchNorm2d(64), nn.ReLU())
        self.layer1 = nn.Sequential(nn.Conv2d(64, 64, 3, padding=1), nn.BatchNorm2d(64))

    def forward(self, x):
        return self.layer1(self.stem(x))

    def train(self, mode=True):
        nn.Module.train(self, mode)
        if mode:
            self.stem.eval()
            self.apply(set_bn_eval)
        return self
