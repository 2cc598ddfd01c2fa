"""ResNet trunk for the instance-segmentation baseline.

Two ways of keeping BatchNorm fixed while fine-tuning with 2 images per GPU:
  * norm="FrozenBN": BN layers are replaced by FrozenBatchNorm2d (buffers only);
  * norm="BN" with norm_eval=True: regular BN, forced back to eval in train().
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


class FrozenBatchNorm2d(nn.Module):
    """BatchNorm2d where the batch statistics and the affine parameters are fixed."""

    def __init__(self, num_features, eps=1e-5):
        super().__init__()
        self.eps = eps
        self.register_buffer("weight", torch.ones(num_features))
        self.register_buffer("bias", torch.zeros(num_features))
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features) - eps)

    def forward(self, x):
        scale = self.weight * (self.running_var + self.eps).rsqrt()
        bias = self.bias - self.running_mean * scale
        return x * scale.view(1, -1, 1, 1) + bias.view(1, -1, 1, 1)

    @classmethod
    def convert_frozen_batchnorm(cls, module):
        bn_types = (nn.BatchNorm2d, nn.SyncBatchNorm)
        if isinstance(module, bn_types):
            res = cls(module.num_features, module.eps)
            if module.affine:
                res.weight.copy_(module.weight.detach())
                res.bias.copy_(module.bias.detach())
            res.running_mean.copy_(module.running_mean)
            res.running_var.copy_(module.running_var)
            return res
        for name, child in module.named_children():
            new_child = cls.convert_frozen_batchnorm(child)
            if new_child is not child:
                module.add_module(name, new_child)
        return module


def get_norm(norm, channels):
    return {"BN": nn.BatchNorm2d, "FrozenBN": FrozenBatchNorm2d,
            "GN": lambda c: nn.GroupNorm(32, c)}[norm](channels)


class BasicStem(nn.Module):
    def __init__(self, out_channels=64, norm="BN"):
        super().__init__()
        self.conv1 = nn.Conv2d(3, out_channels, 7, stride=2, padding=3, bias=False)
        self.norm = get_norm(norm, out_channels)

    def forward(self, x):
        return F.max_pool2d(F.relu_(self.norm(self.conv1(x))), kernel_size=3, stride=2, padding=1)


class BottleneckBlock(nn.Module):
    def __init__(self, cin, cout, bottleneck, stride=1, norm="BN"):
        super().__init__()
        self.shortcut = None
        if cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), get_norm(norm, cout))
        self.conv1 = nn.Sequential(nn.Conv2d(cin, bottleneck, 1, stride=stride, bias=False),
                                   get_norm(norm, bottleneck))
        self.conv2 = nn.Sequential(nn.Conv2d(bottleneck, bottleneck, 3, padding=1, bias=False),
                                   get_norm(norm, bottleneck))
        self.conv3 = nn.Sequential(nn.Conv2d(bottleneck, cout, 1, bias=False), get_norm(norm, cout))

    def forward(self, x):
        out = F.relu_(self.conv1(x))
        out = F.relu_(self.conv2(out))
        out = self.conv3(out)
        return F.relu_(out + (x if self.shortcut is None else self.shortcut(x)))


class ResNetTrunk(nn.Module):
    def __init__(self, depths=(3, 4, 6, 3), norm="FrozenBN", freeze_at=2, norm_eval=False):
        super().__init__()
        self.norm_eval = norm_eval
        self.freeze_at = freeze_at
        self.stem = BasicStem(64, norm)
        stages, cin = [], 64
        for i, d in enumerate(depths):
            cout, bott = 256 * 2 ** i, 64 * 2 ** i
            blocks = [BottleneckBlock(cin if j == 0 else cout, cout, bott, stride=(1 if i == 0 or j > 0 else 2),
                                      norm=norm) for j in range(d)]
            stages.append(nn.Sequential(*blocks))
            cin = cout
        self.stages = nn.ModuleList(stages)
        self._freeze_parameters()

    def _freeze_parameters(self):
        # stem = stage 1, res2 = stage 2 ...
        frozen = [self.stem] + list(self.stages[: max(self.freeze_at - 1, 0)])
        for m in frozen[: self.freeze_at]:
            for p in m.parameters():
                p.requires_grad = False
            m.eval()  # re-applied by train() below
        self._frozen_modules = frozen[: self.freeze_at]

    def train(self, mode: bool = True):
        super().train(mode)
        if mode:
            for m in self._frozen_modules:
                m.eval()
            if self.norm_eval:
                for m in self.modules():
                    if isinstance(m, nn.BatchNorm2d):
                        m.eval()
        return self

    def forward(self, x):
        feats = {}
        x = self.stem(x)
        for i, stage in enumerate(self.stages):
            x = stage(x)
            feats[f"res{i + 2}"] = x
        return feats


def build_trunk(cfg):
    trunk = ResNetTrunk(norm=cfg.NORM, freeze_at=cfg.FREEZE_AT, norm_eval=cfg.NORM_EVAL)
    if cfg.CONVERT_TO_FROZEN_BN:
        trunk = FrozenBatchNorm2d.convert_frozen_batchnorm(trunk)
    return trunk
