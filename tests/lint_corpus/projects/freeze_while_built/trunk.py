"""A small ResNet-like trunk whose BatchNorm statistics can be kept at their pretrained values."""
import torch.nn as nn


class Trunk(nn.Module):
    def __init__(self, width=64):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, width, 7, 2, 3, bias=False), nn.BatchNorm2d(width),
                                  nn.ReLU(inplace=True))
        self.stage = nn.Sequential(nn.Conv2d(width, 2 * width, 3, 2, 1, bias=False),
                                   nn.BatchNorm2d(2 * width), nn.ReLU(inplace=True))
        self.out_channels = 2 * width

    def keep_bn_frozen(self):
        for m in self.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.eval()  # expect: MG301

    def forward(self, x):
        return self.stage(self.stem(x))


def set_bn_eval(m):
    if isinstance(m, nn.BatchNorm2d):
        m.eval()  # expect: MG301
