import torch
import torch.nn as nn
import torch.nn.functional as F

from .backbones import build_backbone
from .sync_batchnorm import SynchronizedBatchNorm2d


def _norm(sync_bn):
    return SynchronizedBatchNorm2d if sync_bn else nn.BatchNorm2d


class _ASPPBranch(nn.Sequential):
    def __init__(self, cin, cout, k, dilation, norm):
        pad = 0 if k == 1 else dilation
        super().__init__(
            nn.Conv2d(cin, cout, k, padding=pad, dilation=dilation, bias=False),
            norm(cout),
            nn.ReLU(inplace=True),
        )


class ASPP(nn.Module):
    def __init__(self, cin, output_stride, norm):
        super().__init__()
        rates = [1, 6, 12, 18] if output_stride == 16 else [1, 12, 24, 36]
        self.branches = nn.ModuleList(
            [_ASPPBranch(cin, 256, 1 if r == 1 else 3, r, norm) for r in rates]
        )
        self.image_pool = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), nn.Conv2d(cin, 256, 1, bias=False), norm(256), nn.ReLU(inplace=True)
        )
        self.project = nn.Sequential(
            nn.Conv2d(256 * 5, 256, 1, bias=False), norm(256), nn.ReLU(inplace=True), nn.Dropout(0.5)
        )

    def forward(self, x):
        feats = [b(x) for b in self.branches]
        pooled = self.image_pool(x)
        feats.append(F.interpolate(pooled, size=x.shape[2:], mode="bilinear", align_corners=True))
        return self.project(torch.cat(feats, dim=1))


class Decoder(nn.Module):
    def __init__(self, num_classes, low_level_inplanes, norm):
        super().__init__()
        self.reduce = nn.Sequential(nn.Conv2d(low_level_inplanes, 48, 1, bias=False), norm(48), nn.ReLU(inplace=True))
        self.fuse = nn.Sequential(
            nn.Conv2d(304, 256, 3, padding=1, bias=False), norm(256), nn.ReLU(inplace=True), nn.Dropout(0.5),
            nn.Conv2d(256, 256, 3, padding=1, bias=False), norm(256), nn.ReLU(inplace=True), nn.Dropout(0.1),
            nn.Conv2d(256, num_classes, 1),
        )

    def forward(self, x, low):
        low = self.reduce(low)
        x = F.interpolate(x, size=low.shape[2:], mode="bilinear", align_corners=True)
        return self.fuse(torch.cat([x, low], dim=1))


class DeepLabV3Plus(nn.Module):
    def __init__(self, backbone="resnet101", output_stride=16, num_classes=21,
                 sync_bn=False, freeze_bn=False):
        super().__init__()
        norm = _norm(sync_bn)
        self.backbone, low_ch, high_ch = build_backbone(backbone, output_stride, norm)
        self.aspp = ASPP(high_ch, output_stride, norm)
        self.decoder = Decoder(num_classes, low_ch, norm)
        self.freeze_bn = freeze_bn  # expect: MG104

    def forward(self, x):
        high, low = self.backbone(x)
        out = self.decoder(self.aspp(high), low)
        return F.interpolate(out, size=x.shape[2:], mode="bilinear", align_corners=True)

    def freeze_bn(self):
        for m in self.modules():
            if isinstance(m, (nn.BatchNorm2d, SynchronizedBatchNorm2d)):
                m.eval()

    def _params_of(self, modules, want_norm):
        for mod in modules:
            for m in mod.modules():
                is_norm = isinstance(m, (nn.BatchNorm2d, SynchronizedBatchNorm2d))
                if is_norm != want_norm:
                    continue
                for p in m.parameters(recurse=False):
                    if p.requires_grad:
                        yield p

    def get_1x_lr_params(self):
        yield from self._params_of([self.backbone], want_norm=False)
        if not self.freeze_bn:
            yield from self._params_of([self.backbone], want_norm=True)

    def get_10x_lr_params(self):
        yield from self._params_of([self.aspp, self.decoder], want_norm=False)
        if not self.freeze_bn:
            yield from self._params_of([self.aspp, self.decoder], want_norm=True)
