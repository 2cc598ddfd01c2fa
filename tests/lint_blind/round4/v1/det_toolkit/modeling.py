"""CenterNet-style keypoint detector on a ResNet-18 trunk."""
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision


class ResNetTrunk(nn.Module):
    def __init__(self, pretrained=True):
        super().__init__()
        r = torchvision.models.resnet18(weights="IMAGENET1K_V1" if pretrained else None)
        self.body = nn.Sequential(r.conv1, r.bn1, r.relu, r.maxpool,
                                  r.layer1, r.layer2, r.layer3, r.layer4)
        self.out_channels = 512

    def freeze_bn(self):
        """Small detection batches give useless BN statistics: keep the ImageNet ones."""
        for m in self.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.eval()  # expect: MG301

    def forward(self, x):
        return self.body(x)


class UpsampleNeck(nn.Module):
    def __init__(self, cin, widths=(256, 128, 64)):
        super().__init__()
        layers = []
        for w in widths:
            layers += [nn.ConvTranspose2d(cin, w, 4, stride=2, padding=1, bias=False),
                       nn.BatchNorm2d(w), nn.ReLU(inplace=True)]
            cin = w
        self.net = nn.Sequential(*layers)
        self.out_channels = cin

    def forward(self, x):
        return self.net(x)


def _head(cin, cout, bias_init=0.0):
    head = nn.Sequential(nn.Conv2d(cin, 64, 3, padding=1), nn.ReLU(inplace=True),
                         nn.Conv2d(64, cout, 1))
    nn.init.constant_(head[-1].bias, bias_init)
    return head


class CenterDetector(nn.Module):
    def __init__(self, num_classes, pretrained=True, max_dets=100):
        super().__init__()
        self.trunk = ResNetTrunk(pretrained)
        self.neck = UpsampleNeck(self.trunk.out_channels)
        c = self.neck.out_channels
        self.heatmap = _head(c, num_classes, bias_init=-2.19)
        self.size = _head(c, 2)
        self.offset = _head(c, 2)
        self.max_dets = max_dets

    def forward(self, images):
        feat = self.neck(self.trunk(images))
        return {"hm": self.heatmap(feat), "wh": self.size(feat), "reg": self.offset(feat)}

    def decode(self, out, down=4):
        hm = out["hm"].sigmoid()
        peaks = (F.max_pool2d(hm, 3, 1, 1) == hm).float() * hm
        b, c, h, w = peaks.shape
        scores, idx = peaks.view(b, -1).topk(self.max_dets)
        cls = idx // (h * w)
        pix = idx % (h * w)
        ys, xs = (pix // w).float(), (pix % w).float()
        wh = out["wh"].view(b, 2, -1).gather(2, pix[:, None].expand(-1, 2, -1))
        off = out["reg"].view(b, 2, -1).gather(2, pix[:, None].expand(-1, 2, -1))
        cx, cy = xs + off[:, 0], ys + off[:, 1]
        boxes = torch.stack([cx - wh[:, 0] / 2, cy - wh[:, 1] / 2,
                             cx + wh[:, 0] / 2, cy + wh[:, 1] / 2], dim=-1) * down
        return boxes, scores, cls


def build_detector(num_classes, freeze_trunk_bn=True, pretrained=True):
    det = CenterDetector(num_classes, pretrained=pretrained)
    if freeze_trunk_bn:
        det.trunk.freeze_bn()
    return det
