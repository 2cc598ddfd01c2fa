"""FCOS-style anchor-free detector: ResNet-18 body, tiny FPN, shared head."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision


class FPN(nn.Module):
    def __init__(self, in_channels=(128, 256, 512), out_ch=128):
        super().__init__()
        self.lateral = nn.ModuleList(nn.Conv2d(c, out_ch, 1) for c in in_channels)
        self.smooth = nn.ModuleList(nn.Conv2d(out_ch, out_ch, 3, padding=1) for _ in in_channels)

    def forward(self, feats):
        lat = [l(f) for l, f in zip(self.lateral, feats)]
        for i in range(len(lat) - 1, 0, -1):
            lat[i - 1] = lat[i - 1] + F.interpolate(lat[i], size=lat[i - 1].shape[-2:], mode="nearest")
        return [s(x) for s, x in zip(self.smooth, lat)]


class Head(nn.Module):
    def __init__(self, ch, num_classes, convs=3):
        super().__init__()

        def tower():
            mods = []
            for _ in range(convs):
                mods += [nn.Conv2d(ch, ch, 3, padding=1), nn.GroupNorm(32, ch), nn.ReLU(inplace=True)]
            return nn.Sequential(*mods)

        self.cls_tower, self.box_tower = tower(), tower()
        self.cls_logits = nn.Conv2d(ch, num_classes, 3, padding=1)
        self.bbox_pred = nn.Conv2d(ch, 4, 3, padding=1)
        self.centerness = nn.Conv2d(ch, 1, 3, padding=1)
        nn.init.constant_(self.cls_logits.bias, -math.log(99))

    def forward(self, feats):
        out = []
        for f in feats:
            c, b = self.cls_tower(f), self.box_tower(f)
            out.append((self.cls_logits(c), F.relu(self.bbox_pred(b)), self.centerness(b)))
        return out


class FCOSLite(nn.Module):
    def __init__(self, num_classes=20, pretrained=True):
        super().__init__()
        r18 = torchvision.models.resnet18(weights="DEFAULT" if pretrained else None)
        self.stem = nn.Sequential(r18.conv1, r18.bn1, r18.relu, r18.maxpool, r18.layer1)
        self.c3, self.c4, self.c5 = r18.layer2, r18.layer3, r18.layer4
        self.fpn = FPN()
        self.head = Head(128, num_classes)
        self.strides = (8, 16, 32)

    def forward(self, images):
        x = self.stem(images)
        c3 = self.c3(x)
        c4 = self.c4(c3)
        c5 = self.c5(c4)
        return self.head(self.fpn([c3, c4, c5]))
