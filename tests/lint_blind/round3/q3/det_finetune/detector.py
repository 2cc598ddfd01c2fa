"""FCOS-style single-stage detector: ResNet + FPN + shared GroupNorm head."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from backbone import resnet18, resnet34


class FPN(nn.Module):
    def __init__(self, in_channels, out_ch=256):
        super().__init__()
        self.lateral = nn.ModuleList(nn.Conv2d(c, out_ch, 1) for c in in_channels)
        self.smooth = nn.ModuleList(nn.Conv2d(out_ch, out_ch, 3, padding=1) for _ in in_channels)
        self.p6 = nn.Conv2d(out_ch, out_ch, 3, 2, 1)
        self.p7 = nn.Conv2d(out_ch, out_ch, 3, 2, 1)

    def forward(self, feats):
        lat = [l(f) for l, f in zip(self.lateral, feats)]
        for i in range(len(lat) - 1, 0, -1):
            lat[i - 1] = lat[i - 1] + F.interpolate(lat[i], size=lat[i - 1].shape[-2:], mode="nearest")
        outs = [s(x) for s, x in zip(self.smooth, lat)]
        p6 = self.p6(outs[-1])
        return outs + [p6, self.p7(F.relu(p6))]


class Head(nn.Module):
    def __init__(self, num_classes, ch=256, convs=4):
        super().__init__()
        def tower():
            layers = []
            for _ in range(convs):
                layers += [nn.Conv2d(ch, ch, 3, padding=1), nn.GroupNorm(32, ch), nn.ReLU(inplace=True)]
            return nn.Sequential(*layers)
        self.cls_tower, self.box_tower = tower(), tower()
        self.cls = nn.Conv2d(ch, num_classes, 3, padding=1)
        self.box = nn.Conv2d(ch, 4, 3, padding=1)
        self.ctr = nn.Conv2d(ch, 1, 3, padding=1)
        self.scales = nn.Parameter(torch.ones(5))

    def forward(self, feats):
        out = []
        for i, f in enumerate(feats):
            c, b = self.cls_tower(f), self.box_tower(f)
            out.append((self.cls(c), F.relu(self.box(b) * self.scales[i]), self.ctr(b)))
        return out


class Detector(nn.Module):
    def __init__(self, num_classes, depth=34, pretrained=None, frozen_bn=True):
        super().__init__()
        self.backbone = {18: resnet18, 34: resnet34}[depth](pretrained)
        if frozen_bn:
            self.backbone.freeze_norm_stats()
        self.fpn = FPN(self.backbone.out_channels)
        self.head = Head(num_classes)

    def forward(self, images):
        return self.head(self.fpn(self.backbone(images)))
