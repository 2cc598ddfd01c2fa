"""MobileNetV2 / RegNet-ish backbones for the detection zoo, with stage freezing."""
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.modules.batchnorm import _BatchNorm


def conv_norm_act(cin, cout, k=3, s=1, groups=1, act=True):
    return nn.Sequential(
        nn.Conv2d(cin, cout, k, s, k // 2, groups=groups, bias=False),
        nn.BatchNorm2d(cout, eps=1e-5, momentum=0.03),
        nn.ReLU6(inplace=True) if act else nn.Identity(),
    )


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, expand):
        super().__init__()
        hid = cin * expand
        self.use_res = stride == 1 and cin == cout
        layers = [conv_norm_act(cin, hid, 1)] if expand != 1 else []
        layers += [conv_norm_act(hid, hid, 3, stride, groups=hid), conv_norm_act(hid, cout, 1, act=False)]
        self.body = nn.Sequential(*layers)

    def forward(self, x):
        y = self.body(x)
        return x + y if self.use_res else y


class MobileNetV2Backbone(nn.Module):
    cfg = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
           (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]

    def __init__(self, out_stages=(2, 4, 6), frozen_stages=-1, freeze_bn=False, feat_drop=0.0):
        super().__init__()
        self.out_stages = out_stages
        self.frozen_stages = frozen_stages
        self.freeze_bn_enabled = freeze_bn
        self.feat_drop = feat_drop
        self.stem = conv_norm_act(3, 32, 3, 2)
        cin, stages = 32, []
        for t, c, n, s in self.cfg:
            blocks = [InvertedResidual(cin if i == 0 else c, c, s if i == 0 else 1, t) for i in range(n)]
            stages.append(nn.Sequential(*blocks))
            cin = c
        self.stages = nn.ModuleList(stages)
        self.apply_freeze()

    def freeze_bn(self):
        for m in self.modules():
            if isinstance(m, _BatchNorm):
                m.eval()

    def apply_freeze(self):
        if self.frozen_stages >= 0:
            for mod in [self.stem, *self.stages[: self.frozen_stages + 1]]:
                mod.eval()
                for p in mod.parameters():
                    p.requires_grad = False
        if self.freeze_bn_enabled:
            self.freeze_bn()

    def train(self, mode=True):
        super().train(mode)
        if mode:
            self.apply_freeze()
        return self

    def forward(self, x):
        x = self.stem(x)
        outs = []
        for i, stage in enumerate(self.stages):
            x = stage(x)
            if i in self.out_stages:
                if self.training and self.feat_drop > 0:
                    outs.append(F.dropout2d(x, self.feat_drop, training=self.training))
                else:
                    outs.append(x)
        return outs


def freeze_all_bn(model):
    """Freeze every BN layer: statistics (eval) and affine parameters.

    Must be called again after each `model.train()`; the training script does that in
    `on_epoch_start`.
    """
    for m in model.modules():
        if isinstance(m, _BatchNorm):
            m.eval()
            for p in m.parameters():
                p.requires_grad = False
    return model
