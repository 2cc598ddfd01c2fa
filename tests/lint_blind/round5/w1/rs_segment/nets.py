"""U-Net with an ImageNet ResNet-34 encoder for aerial semantic segmentation (ISPRS Potsdam).

With small crops and batch 4 per GPU the encoder BatchNorm layers are frozen completely:
affine parameters are excluded from training *and* the running statistics are kept, and
train() is overridden so that the freeze survives every model.train() call.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.models import resnet34, ResNet34_Weights


class DecoderBlock(nn.Module):
    def __init__(self, cin, cskip, cout):
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(cin + cskip, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
            nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
        )

    def forward(self, x, skip=None):
        x = F.interpolate(x, scale_factor=2, mode="nearest")
        if skip is not None:
            x = torch.cat([x, skip], 1)
        return self.conv(x)


class ResUNet(nn.Module):
    def __init__(self, n_classes=6, freeze_encoder_bn=True, drop=0.1):
        super().__init__()
        r = resnet34(weights=ResNet34_Weights.IMAGENET1K_V1)
        self.stem = nn.Sequential(r.conv1, r.bn1, r.relu)
        self.pool = r.maxpool
        self.enc = nn.ModuleList([r.layer1, r.layer2, r.layer3, r.layer4])
        self.dec = nn.ModuleList([
            DecoderBlock(512, 256, 256), DecoderBlock(256, 128, 128),
            DecoderBlock(128, 64, 64), DecoderBlock(64, 64, 32), DecoderBlock(32, 0, 16),
        ])
        self.drop = nn.Dropout2d(drop)
        self.head = nn.Conv2d(16, n_classes, 1)
        self.freeze_encoder_bn = freeze_encoder_bn
        if freeze_encoder_bn:
            self._freeze_bn()

    def _encoder_bns(self):
        for part in (self.stem, self.enc):
            for m in part.modules():
                if isinstance(m, nn.BatchNorm2d):
                    yield m

    def _freeze_bn(self):
        for bn in self._encoder_bns():
            bn.eval()
            bn.weight.requires_grad_(False)
            bn.bias.requires_grad_(False)

    def train(self, mode: bool = True):
        super().train(mode)
        if mode and self.freeze_encoder_bn:
            self._freeze_bn()
        return self

    def forward(self, x):
        s0 = self.stem(x)
        feats = [s0]
        h = self.pool(s0)
        for layer in self.enc:
            h = layer(h)
            feats.append(h)
        h = feats.pop()
        for blk in self.dec[:-1]:
            h = blk(h, feats.pop())
        h = self.dec[-1](h)
        return self.head(self.drop(h))
