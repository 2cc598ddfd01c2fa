import torch
import torch.nn as nn


class DSConv(nn.Module):
    """Depthwise-separable conv block used by DS-CNN keyword spotters."""

    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.dw = nn.Conv2d(cin, cin, 3, stride, 1, groups=cin, bias=False)
        self.bn1 = nn.BatchNorm2d(cin)
        self.pw = nn.Conv2d(cin, cout, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.act = nn.ReLU(inplace=True)

    def forward(self, x):
        x = self.act(self.bn1(self.dw(x)))
        return self.act(self.bn2(self.pw(x)))


class DSCNN(nn.Module):
    def __init__(self, n_classes=35, width=172, n_blocks=5, dropout=0.2):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, width, (10, 4), (2, 2), (5, 1), bias=False),
                                  nn.BatchNorm2d(width), nn.ReLU(inplace=True), nn.Dropout(dropout))
        self.blocks = nn.Sequential(*[DSConv(width, width) for _ in range(n_blocks)])
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.drop = nn.Dropout(dropout)
        self.fc = nn.Linear(width, n_classes)

    def forward(self, mfcc):
        x = self.blocks(self.stem(mfcc.unsqueeze(1)))
        return self.fc(self.drop(self.pool(x).flatten(1)))


def build_model(name, n_classes):
    if name == "ds_cnn_s":
        return DSCNN(n_classes, width=64, n_blocks=4)
    if name == "ds_cnn_l":
        return DSCNN(n_classes, width=276, n_blocks=5)
    return DSCNN(n_classes)
