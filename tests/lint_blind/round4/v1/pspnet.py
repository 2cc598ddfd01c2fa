"""PSPNet with a dilated ResNet trunk and an auxiliary FCN head on layer3."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.models import resnet101, resnet50


def conv_bn_relu(cin, cout, k=3):
    return nn.Sequential(
        nn.Conv2d(cin, cout, k, padding=k // 2, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class PyramidPooling(nn.Module):
    def __init__(self, cin, bins=(1, 2, 3, 6)):
        super().__init__()
        red = cin // len(bins)
        self.stages = nn.ModuleList(
            nn.Sequential(nn.AdaptiveAvgPool2d(b), conv_bn_relu(cin, red, 1)) for b in bins)

    def forward(self, x):
        h, w = x.shape[-2:]
        pyramid = [x]
        for stage in self.stages:
            pyramid.append(F.interpolate(stage(x), (h, w), mode="bilinear", align_corners=False))
        return torch.cat(pyramid, 1)


class SegHead(nn.Module):
    def __init__(self, cin, mid, n_cls, drop=0.1):
        super().__init__()
        self.conv = conv_bn_relu(cin, mid)
        self.drop = drop
        self.cls = nn.Conv2d(mid, n_cls, 1)

    def forward(self, x):
        x = self.conv(x)
        x = F.dropout2d(x, self.drop, training=True)  # expect: MG201
        return self.cls(x)


class PSPNet(nn.Module):
    def __init__(self, n_cls=150, layers=50, use_aux=True, aux_weight=0.4, pretrained=True):
        super().__init__()
        ctor = resnet50 if layers == 50 else resnet101
        r = ctor(weights="IMAGENET1K_V1" if pretrained else None,
                 replace_stride_with_dilation=[False, True, True])
        self.layer0 = nn.Sequential(r.conv1, r.bn1, r.relu, r.maxpool)
        self.layer1, self.layer2, self.layer3, self.layer4 = r.layer1, r.layer2, r.layer3, r.layer4
        self.ppm = PyramidPooling(2048)
        self.head = SegHead(4096, 512, n_cls)
        self.use_aux = use_aux
        self.aux_weight = aux_weight
        if use_aux:
            self.aux = nn.Sequential(conv_bn_relu(1024, 256), nn.Dropout2d(0.1),
                                     nn.Conv2d(256, n_cls, 1))

    def forward(self, x, y=None):
        size = x.shape[-2:]
        x = self.layer0(x)
        x = self.layer1(x)
        x = self.layer2(x)
        c3 = self.layer3(x)
        c4 = self.layer4(c3)
        out = self.head(self.ppm(c4))
        out = F.interpolate(out, size, mode="bilinear", align_corners=False)

        # the auxiliary branch is useless at test time, skip it to save memory
        if not self.training and self.use_aux:
            self.use_aux = False  # expect: MG203

        if y is None:
            return out
        main_loss = F.cross_entropy(out, y, ignore_index=255)
        if self.use_aux:
            aux = F.interpolate(self.aux(c3), size, mode="bilinear", align_corners=False)
            aux_loss = F.cross_entropy(aux, y, ignore_index=255)
            return out.argmax(1), main_loss, aux_loss
        return out.argmax(1), main_loss, torch.zeros_like(main_loss)


if __name__ == "__main__":
    net = PSPNet(n_cls=21, layers=50, pretrained=False)
    x = torch.randn(2, 3, 473, 473)
    y = torch.randint(0, 21, (2, 473, 473))
    pred, l_main, l_aux = net(x, y)
    (l_main + net.aux_weight * l_aux).backward()
    print(pred.shape, l_main.item(), l_aux.item())
