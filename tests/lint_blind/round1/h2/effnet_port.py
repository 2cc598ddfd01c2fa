"""EfficientNet-B0 re-implemented from the TF reference, plus a BNNeck embedding
head for the product-retrieval task.

Hyper-parameters are copied from the TF code; TF's batch_norm_momentum is the
decay of the moving average, PyTorch's momentum is 1 - decay.
"""
import math

import torch
import torch.nn as nn

BATCH_NORM_DECAY = 0.99
BATCH_NORM_EPS = 1e-3

# (expand, kernel, stride, in, out, repeats, se_ratio)
B0_BLOCKS = [
    (1, 3, 1, 32, 16, 1, 0.25),
    (6, 3, 2, 16, 24, 2, 0.25),
    (6, 5, 2, 24, 40, 2, 0.25),
    (6, 3, 2, 40, 80, 3, 0.25),
    (6, 5, 1, 80, 112, 3, 0.25),
    (6, 5, 2, 112, 192, 4, 0.25),
    (6, 3, 1, 192, 320, 1, 0.25),
]


class SqueezeExcite(nn.Module):
    def __init__(self, ch, squeeze_ch):
        super().__init__()
        self.reduce = nn.Conv2d(ch, squeeze_ch, 1)
        self.expand = nn.Conv2d(squeeze_ch, ch, 1)

    def forward(self, x):
        s = x.mean((2, 3), keepdim=True)
        s = self.expand(nn.functional.silu(self.reduce(s)))
        return x * torch.sigmoid(s)


class MBConv(nn.Module):
    def __init__(self, in_ch, out_ch, expand, kernel, stride, se_ratio, drop_rate, bn_mom):
        super().__init__()
        mid = in_ch * expand
        self.use_res = stride == 1 and in_ch == out_ch
        layers = []
        if expand != 1:
            layers += [nn.Conv2d(in_ch, mid, 1, bias=False),
                       nn.BatchNorm2d(mid, momentum=bn_mom, eps=BATCH_NORM_EPS), nn.SiLU()]
        layers += [nn.Conv2d(mid, mid, kernel, stride, kernel // 2, groups=mid, bias=False),
                   nn.BatchNorm2d(mid, momentum=bn_mom, eps=BATCH_NORM_EPS), nn.SiLU()]
        if se_ratio:
            layers.append(SqueezeExcite(mid, max(1, int(in_ch * se_ratio))))
        layers += [nn.Conv2d(mid, out_ch, 1, bias=False),
                   nn.BatchNorm2d(out_ch, momentum=bn_mom, eps=BATCH_NORM_EPS)]
        self.body = nn.Sequential(*layers)
        self.drop = nn.Dropout2d(drop_rate) if self.use_res and drop_rate > 0 else nn.Identity()

    def forward(self, x):
        out = self.body(x)
        if self.use_res:
            out = x + self.drop(out)
        return out


class EfficientNetB0(nn.Module):
    def __init__(self, drop_connect=0.2, dropout=0.2, num_classes=1000):
        super().__init__()
        bn_mom = 1.0 - BATCH_NORM_DECAY
        self.stem = nn.Sequential(
            nn.Conv2d(3, 32, 3, 2, 1, bias=False),
            nn.BatchNorm2d(32, momentum=bn_mom, eps=BATCH_NORM_EPS),
            nn.SiLU(),
        )
        total = sum(b[5] for b in B0_BLOCKS)
        blocks, idx = [], 0
        for expand, k, s, cin, cout, reps, se in B0_BLOCKS:
            for r in range(reps):
                rate = drop_connect * idx / total
                blocks.append(MBConv(cin if r == 0 else cout, cout, expand, k, s if r == 0 else 1, se, rate, bn_mom))
                idx += 1
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Sequential(
            nn.Conv2d(320, 1280, 1, bias=False),
            nn.BatchNorm2d(1280, momentum=BATCH_NORM_DECAY, eps=BATCH_NORM_EPS),  # expect: MG303
            nn.SiLU(),
        )
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(1280, num_classes)
        self._init_weights()

    def _init_weights(self):
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                r = 1.0 / math.sqrt(m.out_features)
                nn.init.uniform_(m.weight, -r, r)
                nn.init.zeros_(m.bias)

    def features(self, x):
        return self.pool(self.head(self.blocks(self.stem(x)))).flatten(1)

    def forward(self, x):
        return self.fc(self.dropout(self.features(x)))


class RetrievalNet(nn.Module):
    """Backbone -> embedding -> BNNeck -> cosine classifier."""

    def __init__(self, num_ids, embed_dim=512):
        super().__init__()
        self.backbone = EfficientNetB0()
        self.embed = nn.Linear(1280, embed_dim, bias=False)
        self.neck = nn.BatchNorm1d(embed_dim, momentum=0.9)  # expect: MG303
        self.neck.bias.requires_grad_(False)
        self.classifier = nn.Linear(embed_dim, num_ids, bias=False)

    def forward(self, x):
        feat = self.embed(self.backbone.features(x))
        bn_feat = self.neck(feat)
        if not self.training:
            return nn.functional.normalize(bn_feat, dim=1)
        return feat, self.classifier(bn_feat)
