"""ResNet backbone with DropBlock regularisation and frozen early stages,
used as the feature extractor of our RetinaNet experiments."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class DropBlock2d(nn.Module):
    def __init__(self, drop_prob=0.1, block_size=7):
        super().__init__()
        self.drop_prob = drop_prob
        self.block_size = block_size

    def forward(self, x):
        if not self.training:
            self.drop_prob = 0.0  # expect: MG203
        if self.drop_prob == 0.0:
            return x
        gamma = self.drop_prob / (self.block_size ** 2)
        gamma = gamma * x.shape[-1] * x.shape[-2] / (
            (x.shape[-1] - self.block_size + 1) * (x.shape[-2] - self.block_size + 1))
        seeds = (torch.rand(x.shape[0], 1, *x.shape[2:], device=x.device) < gamma).float()
        block_mask = 1 - F.max_pool2d(seeds, self.block_size, stride=1, padding=self.block_size // 2)
        return x * block_mask * block_mask.numel() / block_mask.sum().clamp(min=1.0)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None, dropblock=None):
        super().__init__()
        width = planes
        self.conv1 = nn.Conv2d(inplanes, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, planes * self.expansion, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.downsample = downsample
        self.dropblock = dropblock if dropblock is not None else nn.Identity()

    def forward(self, x):
        idt = x if self.downsample is None else self.downsample(x)
        out = F.relu(self.bn1(self.conv1(x)), inplace=True)
        out = self.dropblock(F.relu(self.bn2(self.conv2(out)), inplace=True))
        out = self.dropblock(self.bn3(self.conv3(out)))
        return F.relu(out + idt, inplace=True)


class DropBlockResNet(nn.Module):
    arch = {50: (3, 4, 6, 3), 101: (3, 4, 23, 3)}

    def __init__(self, depth=50, frozen_stages=1, norm_eval=True, dropblock_prob=0.1):
        super().__init__()
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self.stem = nn.Sequential(nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64),
                                  nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1))
        self.inplanes = 64
        self.stages = nn.ModuleList()
        for i, n in enumerate(self.arch[depth]):
            db = DropBlock2d(dropblock_prob, 7) if i >= 2 else None
            self.stages.append(self._make_stage(64 * 2 ** i, n, 1 if i == 0 else 2, db))
        self._freeze_stages()

    def _make_stage(self, planes, blocks, stride, dropblock):
        down = None
        if stride != 1 or self.inplanes != planes * 4:
            down = nn.Sequential(nn.Conv2d(self.inplanes, planes * 4, 1, stride, bias=False),
                                 nn.BatchNorm2d(planes * 4))
        layers = [Bottleneck(self.inplanes, planes, stride, down, dropblock)]
        self.inplanes = planes * 4
        layers += [Bottleneck(self.inplanes, planes, dropblock=dropblock) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def _freeze_stages(self):
        if self.frozen_stages >= 0:
            self.stem.eval()
            for p in self.stem.parameters():
                p.requires_grad = False
        for i in range(self.frozen_stages):
            self.stages[i].eval()
            for p in self.stages[i].parameters():
                p.requires_grad = False

    def forward(self, x):
        x = self.stem(x)
        outs = []
        for stage in self.stages:
            x = stage(x)
            outs.append(x)
        return tuple(outs[1:])

    def train(self, mode=True):  # expect: MG104
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, nn.BatchNorm2d):
                    m.eval()
