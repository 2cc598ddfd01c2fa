import torch
import torch.nn as nn
import torch.nn.functional as F


def cbr(cin, cout, k=3, d=1):
    return nn.Sequential(nn.Conv2d(cin, cout, k, padding=d * (k // 2), dilation=d, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class ASPP(nn.Module):
    def __init__(self, cin, cout=256, rates=(6, 12, 18)):
        super().__init__()
        self.branches = nn.ModuleList([cbr(cin, cout, 1)] + [cbr(cin, cout, 3, r) for r in rates])
        self.pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(cin, cout, 1, bias=False), nn.ReLU())
        self.fuse = nn.Sequential(cbr(cout * (len(rates) + 2), cout, 1), nn.Dropout2d(0.1))

    def forward(self, x):
        outs = [b(x) for b in self.branches]
        outs.append(F.interpolate(self.pool(x), x.shape[-2:], mode="bilinear", align_corners=False))
        return self.fuse(torch.cat(outs, 1))


class SimpleSegNet(nn.Module):
    def __init__(self, num_classes, width=64):
        super().__init__()
        self.enc = nn.Sequential(cbr(3, width), cbr(width, width), nn.MaxPool2d(2),
                                 cbr(width, 2 * width), cbr(2 * width, 2 * width), nn.MaxPool2d(2),
                                 cbr(2 * width, 4 * width), cbr(4 * width, 4 * width, d=2))
        self.aspp = ASPP(4 * width, 4 * width)
        self.cls = nn.Conv2d(4 * width, num_classes, 1)

    def forward(self, x):
        h = self.cls(self.aspp(self.enc(x)))
        return F.interpolate(h, x.shape[-2:], mode="bilinear", align_corners=False)


def build_model(cfg):
    name = cfg.get("name", "simple_aspp")
    if name != "simple_aspp":
        raise KeyError(f"unknown segmentor {name!r}")
    return SimpleSegNet(cfg["num_classes"], cfg.get("width", 64))
