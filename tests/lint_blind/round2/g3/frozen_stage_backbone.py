"""ResNet backbone with mmdet-style ``frozen_stages`` / ``norm_eval`` options, and
a distillation wrapper whose teacher never leaves inference mode."""
import torch
import torch.nn as nn
from torch.nn.modules.batchnorm import _BatchNorm


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        width = planes
        self.conv1 = nn.Conv2d(inplanes, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, planes * self.expansion, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


class ResNetBackbone(nn.Module):
    arch = {50: (3, 4, 6, 3), 101: (3, 4, 23, 3)}

    def __init__(self, depth=50, frozen_stages=1, norm_eval=True, out_indices=(0, 1, 2, 3)):
        super().__init__()
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self.out_indices = out_indices
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.inplanes = 64
        self.stage_names = []
        for i, n in enumerate(self.arch[depth]):
            layer = self._make_layer(64 * 2 ** i, n, stride=1 if i == 0 else 2)
            name = f"layer{i + 1}"
            self.add_module(name, layer)
            self.stage_names.append(name)
        self._freeze_stages()

    def _make_layer(self, planes, blocks, stride):
        down = None
        if stride != 1 or self.inplanes != planes * Bottleneck.expansion:
            down = nn.Sequential(nn.Conv2d(self.inplanes, planes * 4, 1, stride, bias=False), nn.BatchNorm2d(planes * 4))
        layers = [Bottleneck(self.inplanes, planes, stride, down)]
        self.inplanes = planes * 4
        layers += [Bottleneck(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def _freeze_stages(self):
        if self.frozen_stages >= 0:
            self.bn1.eval()
            for m in (self.conv1, self.bn1):
                for p in m.parameters():
                    p.requires_grad = False
        for i in range(1, self.frozen_stages + 1):
            stage = getattr(self, f"layer{i}")
            stage.eval()
            for p in stage.parameters():
                p.requires_grad = False

    def train(self, mode=True):
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, _BatchNorm):
                    m.eval()
        return self

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        outs = []
        for i, name in enumerate(self.stage_names):
            x = getattr(self, name)(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)


class FeatureDistiller(nn.Module):
    """Student is trained to match the teacher's multi-scale features."""

    def __init__(self, student: nn.Module, teacher: nn.Module, channels=(256, 512, 1024, 2048)):
        super().__init__()
        self.student = student
        self.teacher = teacher.eval().requires_grad_(False)
        self.adapters = nn.ModuleList(nn.Conv2d(c, c, 1) for c in channels)

    def train(self, mode: bool = True):
        self.training = mode
        for name, child in self.named_children():
            child.train(mode and name != "teacher")
        return self

    def forward(self, images):
        s_feats = self.student(images)
        if not self.training:
            return s_feats
        with torch.no_grad():
            t_feats = self.teacher(images)
        loss = sum(nn.functional.mse_loss(a(s), t) for a, s, t in zip(self.adapters, s_feats, t_feats))
        return s_feats, loss
