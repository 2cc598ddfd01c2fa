"""A one-stage detector: the trunk is built from a table of depths, then frozen while built."""
import torch.nn as nn

from trunk import Trunk


class Detector(nn.Module):
    def __init__(self, num_classes, width=64, freeze_stats=True):
        super().__init__()
        self.trunk = {64: Trunk, 32: Trunk}[width](width)
        if freeze_stats:
            self.trunk.keep_bn_frozen()
        self.head = nn.Conv2d(self.trunk.out_channels, num_classes + 4, 1)

    def forward(self, images):
        return self.head(self.trunk(images))
