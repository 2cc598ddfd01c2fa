import torch
import torch.nn as nn
import torch.nn.functional as F

from backbones import build_backbone


def conv_bn_relu(cin, cout, k=3, dilation=1):
    pad = 0 if k == 1 else dilation
    return nn.Sequential(nn.Conv2d(cin, cout, k, padding=pad, dilation=dilation, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class ASPPPooling(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.proj = nn.Sequential(nn.Conv2d(cin, cout, 1, bias=False), nn.ReLU(inplace=True))

    def forward(self, x):
        g = self.proj(F.adaptive_avg_pool2d(x, 1))
        return F.interpolate(g, size=x.shape[-2:], mode="bilinear", align_corners=False)


class ASPP(nn.Module):
    def __init__(self, cin, rates=(6, 12, 18), cout=256, drop=0.5):
        super().__init__()
        branches = [conv_bn_relu(cin, cout, 1)]
        branches += [conv_bn_relu(cin, cout, 3, r) for r in rates]
        branches.append(ASPPPooling(cin, cout))
        self.branches = nn.ModuleList(branches)
        self.project = conv_bn_relu(cout * len(branches), cout, 1)
        self.drop = drop

    def forward(self, x):
        y = self.project(torch.cat([b(x) for b in self.branches], dim=1))
        return F.dropout(y, self.drop, self.training)


class Decoder(nn.Module):
    def __init__(self, low_ch, num_classes, mid=256):
        super().__init__()
        self.reduce = conv_bn_relu(low_ch, 48, 1)
        self.fuse = nn.Sequential(conv_bn_relu(mid + 48, mid), conv_bn_relu(mid, mid))
        self.classifier = nn.Conv2d(mid, num_classes, 1)

    def forward(self, high, low):
        high = F.interpolate(high, size=low.shape[-2:], mode="bilinear", align_corners=False)
        y = self.fuse(torch.cat([high, self.reduce(low)], dim=1))
        y = F.dropout2d(y, p=0.1)  # expect: MG201
        return self.classifier(y)


class DeepLabV3Plus(nn.Module):
    def __init__(self, backbone="resnet101", output_stride=16, num_classes=21,
                 sync_bn=False, freeze_bn=False):
        super().__init__()
        norm = nn.SyncBatchNorm if sync_bn else nn.BatchNorm2d
        self.backbone, low_ch, high_ch = build_backbone(backbone, output_stride, norm)
        rates = (6, 12, 18) if output_stride == 16 else (12, 24, 36)
        self.aspp = ASPP(high_ch, rates)
        self.decoder = Decoder(low_ch, num_classes)
        self.freeze_bn = freeze_bn  # expect: MG104

    def forward(self, img):
        low, high = self.backbone(img)
        out = self.decoder(self.aspp(high), low)
        return F.interpolate(out, size=img.shape[-2:], mode="bilinear", align_corners=False)

    def freeze_bn(self):
        for m in self.modules():
            if isinstance(m, (nn.BatchNorm2d, nn.SyncBatchNorm)):
                m.eval()

    def get_1x_lr_params(self):
        for p in self.backbone.parameters():
            if p.requires_grad:
                yield p

    def get_10x_lr_params(self):
        for mod in (self.aspp, self.decoder):
            for p in mod.parameters():
                if p.requires_grad:
                    yield p


if __name__ == "__main__":
    net = DeepLabV3Plus(backbone="resnet50", output_stride=16, num_classes=19)
    net.eval()
    with torch.no_grad():
        print(net(torch.rand(2, 3, 513, 513)).shape)
