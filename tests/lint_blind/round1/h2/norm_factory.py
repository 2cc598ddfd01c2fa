"""Normalization / optimizer factories shared by the detection and re-ID configs.

BN momentum convention reminder: PyTorch momentum = weight of the NEW batch
(= 1 - TF decay). Configs ported from TF store the decay and convert here.
"""
from functools import partial

import torch
import torch.nn as nn

TF_BN_DECAY = 0.997
TF_BN_EPS = 1e-3

_DEFAULT_CFG = {
    "norm": "BN",
    "bn_decay": 0.99,           # TF-style, converted below
    "bn_momentum": None,        # PyTorch-style, takes precedence if set
    "precise_bn": False,
}


def bn_momentum_from_cfg(cfg):
    if cfg.get("bn_momentum") is not None:
        return cfg["bn_momentum"]
    return 1.0 - cfg["bn_decay"]


def make_norm(kind, channels, cfg=None):
    cfg = {**_DEFAULT_CFG, **(cfg or {})}
    if kind == "BN":
        return nn.BatchNorm2d(channels, momentum=bn_momentum_from_cfg(cfg))
    if kind == "SyncBN":
        return nn.SyncBatchNorm(channels, momentum=1 - 0.9)
    if kind == "BN-tf":
        return nn.BatchNorm2d(channels, eps=TF_BN_EPS, momentum=1.0 - TF_BN_DECAY)
    if kind == "BN-precise":
        # cumulative moving average, used right before precise-BN recalibration
        return nn.BatchNorm2d(channels, momentum=None)
    if kind == "GN":
        return nn.GroupNorm(32, channels)
    raise ValueError(f"unknown norm {kind!r}")


class ConvNormAct(nn.Sequential):
    def __init__(self, cin, cout, k=3, s=1, norm="BN", act=nn.ReLU, cfg=None):
        super().__init__(
            nn.Conv2d(cin, cout, k, s, k // 2, bias=False),
            make_norm(norm, cout, cfg),
            act(inplace=True) if act is not None else nn.Identity(),
        )


class YOLOStyleNeck(nn.Module):
    """The ultralytics-style 0.03 momentum, 1e-3 eps BN."""

    def __init__(self, chs=(256, 512, 1024), out=256, bn_momentum=0.03):
        super().__init__()
        bn = partial(nn.BatchNorm2d, eps=1e-3, momentum=bn_momentum)
        self.reduce = nn.ModuleList([nn.Sequential(nn.Conv2d(c, out, 1, bias=False), bn(out), nn.SiLU())
                                     for c in chs])
        self.fuse = nn.Sequential(nn.Conv2d(out * len(chs), out, 3, padding=1, bias=False), bn(out), nn.SiLU())

    def forward(self, feats):
        target = feats[0].shape[-2:]
        ups = [nn.functional.interpolate(r(f), size=target, mode="nearest") for r, f in zip(self.reduce, feats)]
        return self.fuse(torch.cat(ups, dim=1))


class EmbeddingHead(nn.Module):
    def __init__(self, cin, dim=256, slow_bn=True):
        super().__init__()
        self.fc = nn.Linear(cin, dim)
        self.bn = nn.BatchNorm1d(dim, momentum=0.01 if slow_bn else 0.1)

    def forward(self, x):
        return self.bn(self.fc(x.flatten(1)))


class ModelEMA:
    """Exponential moving average of weights; decay is the weight of the OLD value."""

    def __init__(self, model, decay=0.9998):
        import copy
        self.module = copy.deepcopy(model).eval()
        self.decay = decay
        for p in self.module.parameters():
            p.requires_grad_(False)

    @torch.no_grad()
    def update(self, model):
        msd = model.state_dict()
        for k, v in self.module.state_dict().items():
            if v.dtype.is_floating_point:
                v.mul_(self.decay).add_(msd[k].detach(), alpha=1 - self.decay)


def build_optimizer(model, name="sgd", lr=0.01, momentum=0.9, weight_decay=5e-4, betas=(0.9, 0.999)):
    decay, no_decay = [], []
    for n, p in model.named_parameters():
        if not p.requires_grad:
            continue
        (no_decay if p.ndim <= 1 or n.endswith(".bias") else decay).append(p)
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    if name == "sgd":
        return torch.optim.SGD(groups, lr=lr, momentum=momentum, nesterov=True)
    if name == "adamw":
        return torch.optim.AdamW(groups, lr=lr, betas=betas)
    raise ValueError(name)
