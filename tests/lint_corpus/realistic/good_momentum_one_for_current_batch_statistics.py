"""BatchNorm with momentum=1.0 keeps only the latest batch's statistics: a deliberate PyTorch
setting (used to recompute statistics), not a Keras value."""
import torch.nn as nn


class Probe(nn.Module):
    def __init__(self, channels=16):
        super().__init__()
        self.bn = nn.BatchNorm2d(channels, momentum=1.0)
        self.bn_default = nn.BatchNorm2d(channels)

    def forward(self, x):
        return self.bn_default(self.bn(x))
