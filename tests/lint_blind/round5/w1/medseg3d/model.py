"""VNet-lite for multi-organ segmentation of abdominal CT patches."""
import torch
import torch.nn as nn


class ResBlock3d(nn.Module):
    def __init__(self, ch, n_convs=2):
        super().__init__()
        layers = []
        for _ in range(n_convs):
            layers += [nn.Conv3d(ch, ch, 3, padding=1, bias=False), nn.BatchNorm3d(ch), nn.PReLU(ch)]
        self.body = nn.Sequential(*layers)

    def forward(self, x):
        return x + self.body(x)


class Down(nn.Module):
    def __init__(self, cin, cout, n_convs, drop=0.0):
        super().__init__()
        self.down = nn.Sequential(nn.Conv3d(cin, cout, 2, stride=2, bias=False), nn.BatchNorm3d(cout), nn.PReLU(cout))
        self.res = ResBlock3d(cout, n_convs)
        self.drop = nn.Dropout3d(drop) if drop > 0 else nn.Identity()

    def forward(self, x):
        return self.drop(self.res(self.down(x)))


class Up(nn.Module):
    def __init__(self, cin, cskip, n_convs, drop=0.0):
        super().__init__()
        self.up = nn.ConvTranspose3d(cin, cskip, 2, stride=2)
        self.fuse = nn.Sequential(nn.Conv3d(2 * cskip, cskip, 1, bias=False), nn.BatchNorm3d(cskip), nn.PReLU(cskip))
        self.res = ResBlock3d(cskip, n_convs)
        self.drop = nn.Dropout3d(drop) if drop > 0 else nn.Identity()

    def forward(self, x, skip):
        x = self.fuse(torch.cat([self.up(x), skip], 1))
        return self.drop(self.res(x))


class VNetLite(nn.Module):
    def __init__(self, in_ch=1, n_classes=14, base=16, drop=0.2):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv3d(in_ch, base, 3, padding=1, bias=False), nn.BatchNorm3d(base), nn.PReLU(base))
        self.encoder = nn.ModuleList([
            Down(base, base * 2, 2),
            Down(base * 2, base * 4, 3),
            Down(base * 4, base * 8, 3, drop),
            Down(base * 8, base * 16, 3, drop),
        ])
        self.decoder = nn.ModuleList([
            Up(base * 16, base * 8, 3, drop),
            Up(base * 8, base * 4, 3, drop),
            Up(base * 4, base * 2, 2),
            Up(base * 2, base, 1),
        ])
        self.head = nn.Conv3d(base, n_classes, 1)

    def forward(self, x):
        x = self.stem(x)
        skips = [x]
        for blk in self.encoder:
            x = blk(x)
            skips.append(x)
        skips.pop()
        for blk in self.decoder:
            x = blk(x, skips.pop())
        return self.head(x)


def build_model(cfg):
    return VNetLite(in_ch=cfg.get("in_channels", 1), n_classes=cfg["num_classes"],
                    base=cfg.get("base_width", 16), drop=cfg.get("dropout", 0.2))
