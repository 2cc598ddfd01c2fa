import torch
import torch.nn as nn
import torch.nn.functional as F

from modeling.backbone import build_backbone
from modeling.sync_batchnorm import SynchronizedBatchNorm2d


def _norm(bn_layer, ch):
    return bn_layer(ch)


class ASPPBranch(nn.Module):
    def __init__(self, cin, cout, k, dilation, bn_layer):
        super().__init__()
        pad = 0 if k == 1 else dilation
        self.conv = nn.Conv2d(cin, cout, k, padding=pad, dilation=dilation, bias=False)
        self.bn = _norm(bn_layer, cout)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)), inplace=True)


class ASPP(nn.Module):
    def __init__(self, cin, output_stride, bn_layer):
        super().__init__()
        rates = [1, 6, 12, 18] if output_stride == 16 else [1, 12, 24, 36]
        self.branches = nn.ModuleList(
            [ASPPBranch(cin, 256, 1 if r == 1 else 3, r, bn_layer) for r in rates])
        self.image_pool = nn.Sequential(nn.AdaptiveAvgPool2d(1),
                                        nn.Conv2d(cin, 256, 1, bias=False),
                                        _norm(bn_layer, 256), nn.ReLU(inplace=True))
        self.project = nn.Sequential(nn.Conv2d(256 * 5, 256, 1, bias=False),
                                     _norm(bn_layer, 256), nn.ReLU(inplace=True),
                                     nn.Dropout(0.5))

    def forward(self, x):
        outs = [b(x) for b in self.branches]
        pooled = self.image_pool(x)
        outs.append(F.interpolate(pooled, size=x.shape[2:], mode="bilinear", align_corners=True))
        return self.project(torch.cat(outs, dim=1))


class Decoder(nn.Module):
    def __init__(self, num_classes, low_ch, bn_layer):
        super().__init__()
        self.reduce = nn.Sequential(nn.Conv2d(low_ch, 48, 1, bias=False),
                                    _norm(bn_layer, 48), nn.ReLU(inplace=True))
        self.fuse = nn.Sequential(
            nn.Conv2d(304, 256, 3, padding=1, bias=False), _norm(bn_layer, 256), nn.ReLU(inplace=True),
            nn.Dropout(0.5),
            nn.Conv2d(256, 256, 3, padding=1, bias=False), _norm(bn_layer, 256), nn.ReLU(inplace=True),
            nn.Dropout(0.1),
            nn.Conv2d(256, num_classes, 1))

    def forward(self, x, low):
        low = self.reduce(low)
        x = F.interpolate(x, size=low.shape[2:], mode="bilinear", align_corners=True)
        return self.fuse(torch.cat([x, low], dim=1))


class DeepLab(nn.Module):
    def __init__(self, backbone="resnet", output_stride=16, num_classes=21,
                 sync_bn=True, freeze_bn=False):
        super().__init__()
        if backbone == "drn":
            output_stride = 8
        bn_layer = SynchronizedBatchNorm2d if sync_bn else nn.BatchNorm2d
        self.backbone = build_backbone(backbone, output_stride, bn_layer)
        low_ch = 24 if backbone == "mobilenet" else 256
        self.aspp = ASPP(2048 if backbone != "mobilenet" else 320, output_stride, bn_layer)
        self.decoder = Decoder(num_classes, low_ch, bn_layer)
        self.freeze_bn = freeze_bn  # expect: MG104

    def forward(self, inp):
        x, low = self.backbone(inp)
        x = self.aspp(x)
        x = self.decoder(x, low)
        return F.interpolate(x, size=inp.shape[2:], mode="bilinear", align_corners=True)

    def freeze_bn(self):
        for m in self.modules():
            if isinstance(m, (SynchronizedBatchNorm2d, nn.BatchNorm2d)):
                m.eval()

    def _params_of(self, modules):
        for mod in modules:
            for m in mod.named_modules():
                layer = m[1]
                if isinstance(layer, (nn.Conv2d, SynchronizedBatchNorm2d, nn.BatchNorm2d)):
                    if isinstance(layer, nn.Conv2d) or not self.freeze_bn:
                        for p in layer.parameters():
                            if p.requires_grad:
                                yield p

    def get_1x_lr_params(self):
        return self._params_of([self.backbone])

    def get_10x_lr_params(self):
        return self._params_of([self.aspp, self.decoder])


if __name__ == "__main__":
    net = DeepLab(backbone="mobilenet", output_stride=16, sync_bn=False)
    net.eval()
    with torch.no_grad():
        y = net(torch.rand(1, 3, 513, 513))
    print(y.shape)
