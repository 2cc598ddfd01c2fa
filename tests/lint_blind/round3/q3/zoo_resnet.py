"""ResNet-D backbones ported from the TF detection checkpoints.

Weights were converted with tools/convert_tf_ckpt.py; the hyper-parameters of the
normalisation layers are kept identical to the TF reference implementation.
"""
import torch.nn as nn
from torch.nn.modules.batchnorm import _BatchNorm

BN_EPS = 1e-3
BN_MOMENTUM = 0.997  # same as the TF reference


def conv_bn(cin, cout, k=3, s=1, act=True):
    layers = [nn.Conv2d(cin, cout, k, s, k // 2, bias=False),
              nn.BatchNorm2d(cout, eps=BN_EPS, momentum=BN_MOMENTUM)]  # expect: MG303
    if act:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, cin, width, stride=1):
        super().__init__()
        cout = width * self.expansion
        self.conv1 = conv_bn(cin, width, 1)
        self.conv2 = conv_bn(width, width, 3, stride)
        self.conv3 = conv_bn(width, cout, 1, act=False)
        self.short = None
        if stride != 1 or cin != cout:
            self.short = nn.Sequential(
                nn.AvgPool2d(stride, stride, ceil_mode=True) if stride > 1 else nn.Identity(),
                conv_bn(cin, cout, 1, act=False))
        self.act = nn.ReLU(inplace=True)

    def forward(self, x):
        idt = x if self.short is None else self.short(x)
        return self.act(self.conv3(self.conv2(self.conv1(x))) + idt)


class ResNetD(nn.Module):
    arch = {50: (3, 4, 6, 3), 101: (3, 4, 23, 3), 152: (3, 8, 36, 3)}

    def __init__(self, depth=50, out_indices=(1, 2, 3), frozen_stages=1, norm_eval=True):
        super().__init__()
        self.out_indices = out_indices
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self.stem = nn.Sequential(conv_bn(3, 32, 3, 2), conv_bn(32, 32), conv_bn(32, 64),
                                  nn.MaxPool2d(3, 2, 1))
        cin, self.stages = 64, nn.ModuleList()
        for i, n in enumerate(self.arch[depth]):
            width = 64 * 2 ** i
            blocks = [Bottleneck(cin if j == 0 else width * 4, width, (1 if i == 0 else 2) if j == 0 else 1)
                      for j in range(n)]
            self.stages.append(nn.Sequential(*blocks))
            cin = width * 4
        self.out_channels = [256 * 2 ** i for i in out_indices]
        self._freeze_stages()

    def _freeze_stages(self):
        if self.frozen_stages < 0:
            return
        frozen = [self.stem] + [self.stages[i] for i in range(self.frozen_stages)]
        for m in frozen:
            m.eval()
            for p in m.parameters():
                p.requires_grad = False

    def train(self, mode=True):  # expect: MG104
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, _BatchNorm):
                    m.eval()

    def forward(self, x):
        x = self.stem(x)
        feats = []
        for i, stage in enumerate(self.stages):
            x = stage(x)
            if i in self.out_indices:
                feats.append(x)
        return tuple(feats)


def resnet50d(**kw):
    return ResNetD(50, **kw)


def resnet101d(**kw):
    return ResNetD(101, **kw)
