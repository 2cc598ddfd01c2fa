# Re-implementation of EfficientNet-B0 so that the official TF checkpoints
# (converted with tools/convert_tf_ckpt.py) can be loaded. Hyper-parameters
# follow efficientnet_builder.py from the TF repository.
import math
from collections import namedtuple

import torch
from torch import nn
from torch.nn import functional as F

BlockArgs = namedtuple("BlockArgs", "k s e cin cout repeats se_ratio")

B0_BLOCKS = [
    BlockArgs(3, 1, 1, 32, 16, 1, 0.25),
    BlockArgs(3, 2, 6, 16, 24, 2, 0.25),
    BlockArgs(5, 2, 6, 24, 40, 2, 0.25),
    BlockArgs(3, 2, 6, 40, 80, 3, 0.25),
    BlockArgs(5, 1, 6, 80, 112, 3, 0.25),
    BlockArgs(5, 2, 6, 112, 192, 4, 0.25),
    BlockArgs(3, 1, 6, 192, 320, 1, 0.25),
]

TF_BN_DECAY = 0.99
TF_BN_EPS = 1e-3


class ConvNormAct(nn.Sequential):
    def __init__(self, cin, cout, k=3, stride=1, groups=1, act=True):
        super().__init__(
            nn.Conv2d(cin, cout, k, stride, (k - 1) // 2, groups=groups, bias=False),
            nn.BatchNorm2d(cout, eps=TF_BN_EPS, momentum=TF_BN_DECAY),  # expect: MG303
            nn.SiLU(inplace=True) if act else nn.Identity(),
        )


class SqueezeExcite(nn.Module):
    def __init__(self, ch, reduced):
        super().__init__()
        self.reduce = nn.Conv2d(ch, reduced, 1)
        self.expand = nn.Conv2d(reduced, ch, 1)

    def forward(self, x):
        s = F.adaptive_avg_pool2d(x, 1)
        s = self.expand(F.silu(self.reduce(s)))
        return x * torch.sigmoid(s)


def drop_connect(x, rate, training):
    if not training or rate == 0.0:
        return x
    keep = 1.0 - rate
    mask = x.new_empty(x.shape[0], 1, 1, 1).bernoulli_(keep)
    return x / keep * mask


class MBConv(nn.Module):
    def __init__(self, cin, cout, k, stride, expand, se_ratio, drop_rate):
        super().__init__()
        mid = cin * expand
        self.use_res = stride == 1 and cin == cout
        self.drop_rate = drop_rate
        layers = []
        if expand != 1:
            layers.append(ConvNormAct(cin, mid, 1))
        layers += [ConvNormAct(mid, mid, k, stride, groups=mid),
                   SqueezeExcite(mid, max(1, int(cin * se_ratio))),
                   ConvNormAct(mid, cout, 1, act=False)]
        self.block = nn.Sequential(*layers)

    def forward(self, x):
        out = self.block(x)
        if self.use_res:
            out = drop_connect(out, self.drop_rate, self.training) + x
        return out


class EfficientNetB0(nn.Module):
    def __init__(self, num_classes=1000, dropout_rate=0.2, drop_connect_rate=0.2):
        super().__init__()
        self.stem = ConvNormAct(3, 32, 3, 2)
        total = sum(b.repeats for b in B0_BLOCKS)
        blocks, idx = [], 0
        for ba in B0_BLOCKS:
            for r in range(ba.repeats):
                rate = drop_connect_rate * idx / total
                blocks.append(MBConv(ba.cin if r == 0 else ba.cout, ba.cout, ba.k,
                                     ba.s if r == 0 else 1, ba.e, ba.se_ratio, rate))
                idx += 1
        self.blocks = nn.Sequential(*blocks)
        self.head = ConvNormAct(320, 1280, 1)
        self.dropout_rate = dropout_rate
        self.fc = nn.Linear(1280, num_classes)
        self._init_weights()

    def _init_weights(self):
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                fan_out = m.kernel_size[0] * m.kernel_size[1] * m.out_channels // m.groups
                nn.init.normal_(m.weight, 0.0, math.sqrt(2.0 / fan_out))
            elif isinstance(m, nn.Linear):
                bound = 1.0 / math.sqrt(m.weight.size(0))
                nn.init.uniform_(m.weight, -bound, bound)
                nn.init.zeros_(m.bias)

    def forward_features(self, x):
        return self.head(self.blocks(self.stem(x)))

    def forward(self, x):
        x = F.adaptive_avg_pool2d(self.forward_features(x), 1).flatten(1)
        if self.dropout_rate > 0:
            x = F.dropout(x, p=self.dropout_rate)  # expect: MG201
        return self.fc(x)
