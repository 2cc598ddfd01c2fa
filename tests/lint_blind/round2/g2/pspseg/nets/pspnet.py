import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision


class PyramidPooling(nn.Module):
    def __init__(self, cin, bins=(1, 2, 3, 6)):
        super().__init__()
        red = cin // len(bins)
        self.stages = nn.ModuleList(
            nn.Sequential(nn.AdaptiveAvgPool2d(b), nn.Conv2d(cin, red, 1, bias=False),
                          nn.BatchNorm2d(red), nn.ReLU(inplace=True))
            for b in bins)

    def forward(self, x):
        size = x.shape[-2:]
        pooled = [F.interpolate(s(x), size, mode="bilinear", align_corners=True) for s in self.stages]
        return torch.cat([x] + pooled, dim=1)


class PSPNet(nn.Module):
    def __init__(self, num_classes, dropout=0.1, aux_weight=0.4):
        super().__init__()
        r = torchvision.models.resnet50(weights="IMAGENET1K_V2",
                                        replace_stride_with_dilation=[False, True, True])
        self.layer0 = nn.Sequential(r.conv1, r.bn1, r.relu, r.maxpool)
        self.layer1, self.layer2, self.layer3, self.layer4 = r.layer1, r.layer2, r.layer3, r.layer4
        self.ppm = PyramidPooling(2048)
        self.cls = nn.Sequential(nn.Conv2d(4096, 512, 3, padding=1, bias=False), nn.BatchNorm2d(512),
                                 nn.ReLU(inplace=True), nn.Dropout2d(dropout), nn.Conv2d(512, num_classes, 1))
        self.aux = nn.Sequential(nn.Conv2d(1024, 256, 3, padding=1, bias=False), nn.BatchNorm2d(256),
                                 nn.ReLU(inplace=True), nn.Conv2d(256, num_classes, 1))
        self.dropout = dropout
        self.aux_weight = aux_weight

    def forward(self, x, y=None):
        h, w = x.shape[-2:]
        x = self.layer2(self.layer1(self.layer0(x)))
        x3 = self.layer3(x)
        out = self.cls(self.ppm(self.layer4(x3)))
        out = F.interpolate(out, (h, w), mode="bilinear", align_corners=True)
        if y is None:
            return out
        aux = F.dropout2d(self.aux[:3](x3), self.dropout, training=self.training)
        aux = F.interpolate(self.aux[3](aux), (h, w), mode="bilinear", align_corners=True)
        main_loss = F.cross_entropy(out, y, ignore_index=255)
        aux_loss = F.cross_entropy(aux, y, ignore_index=255)
        return out, main_loss + self.aux_weight * aux_loss
