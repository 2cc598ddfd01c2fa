"""A small encoder-decoder segmentation network with a BatchNorm backbone."""
import torch.nn as nn
import torch.nn.functional as F


def conv_bn(cin, cout, stride=1):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class SegNet(nn.Module):
    def __init__(self, num_classes=21):
        super().__init__()
        self.backbone = nn.Sequential(conv_bn(3, 32, 2), conv_bn(32, 64, 2), conv_bn(64, 128, 2))
        self.head = nn.Sequential(nn.Dropout2d(0.1), nn.Conv2d(128, num_classes, 1))

    def forward(self, x):
        size = x.shape[-2:]
        logits = self.head(self.backbone(x))
        return F.interpolate(logits, size=size, mode="bilinear", align_corners=False)
