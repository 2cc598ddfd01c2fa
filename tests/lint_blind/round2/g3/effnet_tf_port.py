"""EfficientNet-B0 re-implementation that loads the official TF checkpoints.

Variable names follow the TF graph so that ``load_tf_weights`` can map
``blocks_3/conv2d/kernel`` etc. directly.  TF uses ``batch_norm_momentum=0.99``
and ``epsilon=1e-3``.
"""
import math
from collections import namedtuple

import numpy as np
import torch
from torch import nn

BlockArgs = namedtuple("BlockArgs", "repeats kernel stride expand cin cout se_ratio")

B0_BLOCKS = [
    BlockArgs(1, 3, 1, 1, 32, 16, 0.25),
    BlockArgs(2, 3, 2, 6, 16, 24, 0.25),
    BlockArgs(2, 5, 2, 6, 24, 40, 0.25),
    BlockArgs(3, 3, 2, 6, 40, 80, 0.25),
    BlockArgs(3, 5, 1, 6, 80, 112, 0.25),
    BlockArgs(4, 5, 2, 6, 112, 192, 0.25),
    BlockArgs(1, 3, 1, 6, 192, 320, 0.25),
]

TF_BN_DECAY = 0.99
BN_EPS = 1e-3


class SqueezeExcite(nn.Module):
    def __init__(self, ch, squeeze_ch):
        super().__init__()
        self.reduce = nn.Conv2d(ch, squeeze_ch, 1)
        self.expand = nn.Conv2d(squeeze_ch, ch, 1)
        self.act = nn.SiLU()

    def forward(self, x):
        s = x.mean((2, 3), keepdim=True)
        return x * torch.sigmoid(self.expand(self.act(self.reduce(s))))


class MBConv(nn.Module):
    def __init__(self, cin, cout, kernel, stride, expand, se_ratio, survival_prob=1.0, bn_decay=TF_BN_DECAY):
        super().__init__()
        mid = cin * expand
        # torch momentum is the weight of the new batch statistic
        self._bn_mom = 1.0 - bn_decay
        self.has_expand = expand != 1
        if self.has_expand:
            self.expand_conv = nn.Conv2d(cin, mid, 1, bias=False)
            self.bn0 = nn.BatchNorm2d(mid, momentum=self._bn_mom, eps=BN_EPS)
        self.dw = nn.Conv2d(mid, mid, kernel, stride, padding=kernel // 2, groups=mid, bias=False)
        self.bn1 = nn.BatchNorm2d(mid, momentum=self._bn_mom, eps=BN_EPS)
        self.se = SqueezeExcite(mid, max(1, int(cin * se_ratio)))
        self.project = nn.Conv2d(mid, cout, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout, momentum=self._bn_mom, eps=BN_EPS)
        self.act = nn.SiLU()
        self.use_res = stride == 1 and cin == cout
        self.survival_prob = survival_prob

    def _drop_connect(self, x):
        if not self.training or self.survival_prob >= 1.0:
            return x
        keep = torch.rand(x.size(0), 1, 1, 1, device=x.device, dtype=x.dtype) < self.survival_prob
        return x * keep / self.survival_prob

    def forward(self, inputs):
        x = inputs
        if self.has_expand:
            x = self.act(self.bn0(self.expand_conv(x)))
        x = self.act(self.bn1(self.dw(x)))
        x = self.se(x)
        x = self.bn2(self.project(x))
        if self.use_res:
            x = self._drop_connect(x) + inputs
        return x


class EfficientNetB0(nn.Module):
    def __init__(self, num_classes=1000, dropout_rate=0.2, drop_connect_rate=0.2):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, 32, 3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(32, momentum=TF_BN_DECAY, eps=BN_EPS),  # expect: MG303
            nn.SiLU(),
        )
        total = sum(b.repeats for b in B0_BLOCKS)
        blocks, idx = [], 0
        for args in B0_BLOCKS:
            for r in range(args.repeats):
                survival = 1.0 - drop_connect_rate * idx / total
                blocks.append(MBConv(args.cin if r == 0 else args.cout, args.cout, args.kernel,
                                     args.stride if r == 0 else 1, args.expand, args.se_ratio, survival))
                idx += 1
        self.blocks = nn.Sequential(*blocks)
        self.head_conv = nn.Conv2d(320, 1280, 1, bias=False)
        self.head_bn = nn.BatchNorm2d(1280, eps=BN_EPS, momentum=0.9)  # expect: MG303
        self.act = nn.SiLU()
        self.dropout = nn.Dropout(dropout_rate)
        self.fc = nn.Linear(1280, num_classes)

    def forward(self, x):
        x = self.blocks(self.stem(x))
        x = self.act(self.head_bn(self.head_conv(x)))
        x = torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1)
        return self.fc(self.dropout(x))


def load_tf_weights(model: EfficientNetB0, npz_path: str) -> None:
    """Copy weights exported with ``np.savez(path, **{var.name: value})``."""
    arrays = np.load(npz_path)
    sd = model.state_dict()
    for name, value in arrays.items():
        key = name.replace("/", ".").replace("kernel", "weight").replace("gamma", "weight")
        key = key.replace("beta", "bias").replace("moving_mean", "running_mean").replace("moving_variance", "running_var")
        if key not in sd:
            continue
        t = torch.from_numpy(value)
        if t.ndim == 4:  # HWIO -> OIHW
            t = t.permute(3, 2, 0, 1)
        sd[key].copy_(t)
