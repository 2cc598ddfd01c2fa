"""Residual 3D U-Net used for the multi-organ CT experiments.

The encoder follows the nnU-Net layout (stride-2 convs instead of pooling);
decoder stages optionally emit deep-supervision logits.
"""
from typing import List, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F


class ResBlock3d(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int = 1, p_drop: float = 0.0):
        super().__init__()
        self.conv1 = nn.Conv3d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm3d(cout)
        self.conv2 = nn.Conv3d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm3d(cout)
        self.p_drop = p_drop
        if stride != 1 or cin != cout:
            self.proj = nn.Sequential(
                nn.Conv3d(cin, cout, 1, stride=stride, bias=False),
                nn.BatchNorm3d(cout),
            )
        else:
            self.proj = nn.Identity()

    def forward(self, x):
        shortcut = self.proj(x)
        h = F.leaky_relu(self.bn1(self.conv1(x)), 0.01, inplace=True)
        if self.p_drop > 0:
            # channel dropout on the whole feature map; third arg is `training`
            h = F.dropout3d(h, self.p_drop, self.training)
        h = self.bn2(self.conv2(h))
        return F.leaky_relu(h + shortcut, 0.01, inplace=True)


class UpStage(nn.Module):
    def __init__(self, cin: int, cskip: int, cout: int):
        super().__init__()
        self.up = nn.ConvTranspose3d(cin, cout, 2, stride=2, bias=False)
        self.block = ResBlock3d(cout + cskip, cout)

    def forward(self, x, skip):
        x = self.up(x)
        if x.shape[2:] != skip.shape[2:]:
            x = F.interpolate(x, size=skip.shape[2:], mode="trilinear", align_corners=False)
        return self.block(torch.cat([x, skip], dim=1))


class ResUNet3d(nn.Module):
    def __init__(
        self,
        in_channels: int = 1,
        num_classes: int = 14,
        widths: Sequence[int] = (32, 64, 128, 256, 320),
        bottleneck_dropout: float = 0.2,
        deep_supervision: bool = True,
    ):
        super().__init__()
        self.stem = ResBlock3d(in_channels, widths[0])
        self.down = nn.ModuleList()
        for i in range(1, len(widths)):
            p = bottleneck_dropout if i == len(widths) - 1 else 0.0
            self.down.append(ResBlock3d(widths[i - 1], widths[i], stride=2, p_drop=p))
        self.up = nn.ModuleList()
        for i in range(len(widths) - 1, 0, -1):
            self.up.append(UpStage(widths[i], widths[i - 1], widths[i - 1]))
        self.heads = nn.ModuleList(
            [nn.Conv3d(widths[i], num_classes, 1) for i in range(len(widths) - 1)]
        )
        self.deep_supervision = deep_supervision

    def forward(self, x) -> torch.Tensor | List[torch.Tensor]:
        skips = [self.stem(x)]
        for stage in self.down:
            skips.append(stage(skips[-1]))
        h = skips.pop()
        outs = []
        for stage in self.up:
            h = stage(h, skips.pop())
            outs.append(h)
        # outs[-1] has full resolution
        logits = [self.heads[len(outs) - 1 - i](o) for i, o in enumerate(outs)]
        if self.training and self.deep_supervision:
            return logits[::-1]
        return logits[-1]


def build_unet(cfg) -> ResUNet3d:
    return ResUNet3d(
        in_channels=cfg.in_channels,
        num_classes=cfg.num_classes,
        widths=tuple(cfg.widths),
        bottleneck_dropout=cfg.bottleneck_dropout,
        deep_supervision=cfg.deep_supervision,
    )
