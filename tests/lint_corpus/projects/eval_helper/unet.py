import torch.nn as nn


class UNet(nn.Module):
    def __init__(self, n_channels=3, n_classes=1):
        super().__init__()
        self.inc = nn.Sequential(nn.Conv2d(n_channels, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU())
        self.outc = nn.Conv2d(64, n_classes, 1)

    def forward(self, x):
        return self.outc(self.inc(x))
