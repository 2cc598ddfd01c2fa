"""Normalisation layers used across the detection and sequence models.

All momentum values follow the PyTorch convention (weight of the *new* batch
statistic), e.g. 0.03 here == 0.97 in the original Darknet/TF configs.
"""
from typing import Optional

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F


class MaskedBatchNorm1d(nn.Module):
    """BatchNorm over (B, C, T) that ignores padded time steps."""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1, affine: bool = True):
        super().__init__()
        self.eps, self.momentum = eps, momentum
        if affine:
            self.weight = nn.Parameter(torch.ones(num_features))
            self.bias = nn.Parameter(torch.zeros(num_features))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))
        self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))

    def forward(self, x: torch.Tensor, mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        if mask is None:
            mask = torch.ones_like(x[:, :1])
        mask = mask.to(x.dtype)
        if self.training:
            n = mask.sum().clamp(min=2)
            mean = (x * mask).sum((0, 2)) / n
            var = (((x - mean[None, :, None]) * mask) ** 2).sum((0, 2)) / n
            with torch.no_grad():
                self.running_mean.mul_(1 - self.momentum).add_(self.momentum * mean)
                self.running_var.mul_(1 - self.momentum).add_(self.momentum * var * n / (n - 1))
                self.num_batches_tracked += 1
        else:
            mean, var = self.running_mean, self.running_var
        y = (x - mean[None, :, None]) / torch.sqrt(var[None, :, None] + self.eps)
        if self.weight is not None:
            y = y * self.weight[None, :, None] + self.bias[None, :, None]
        return y * mask


class GhostBatchNorm1d(nn.Module):
    """Ghost BN (Hoffer et al.) as used by TabNet: statistics over virtual batches."""

    def __init__(self, num_features: int, virtual_batch_size: int = 128, momentum: float = 0.01):
        super().__init__()
        self.vbs = virtual_batch_size
        self.bn = nn.BatchNorm1d(num_features, momentum=momentum)

    def forward(self, x):
        if not self.training or x.size(0) <= self.vbs:
            return self.bn(x)
        chunks = x.chunk(int(torch.ceil(torch.tensor(x.size(0) / self.vbs))), dim=0)
        return torch.cat([self.bn(c) for c in chunks], dim=0)


class FrozenBatchNorm2d(nn.Module):
    """BatchNorm2d with fixed statistics and affine parameters (buffers only)."""

    def __init__(self, n: int, eps: float = 1e-5):
        super().__init__()
        self.eps = eps
        self.register_buffer("weight", torch.ones(n))
        self.register_buffer("bias", torch.zeros(n))
        self.register_buffer("running_mean", torch.zeros(n))
        self.register_buffer("running_var", torch.ones(n))

    def forward(self, x):
        scale = self.weight * (self.running_var + self.eps).rsqrt()
        shift = self.bias - self.running_mean * scale
        return x * scale[None, :, None, None] + shift[None, :, None, None]

    @classmethod
    def convert(cls, module: nn.Module) -> nn.Module:
        if isinstance(module, (nn.BatchNorm2d, nn.SyncBatchNorm)):
            frozen = cls(module.num_features, module.eps)
            if module.affine:
                frozen.weight.copy_(module.weight.detach())
                frozen.bias.copy_(module.bias.detach())
            frozen.running_mean.copy_(module.running_mean)
            frozen.running_var.copy_(module.running_var)
            return frozen
        for name, child in module.named_children():
            new = cls.convert(child)
            if new is not child:
                setattr(module, name, new)
        return module


def build_norm(kind: str, channels: int) -> nn.Module:
    kind = kind.lower()
    if kind == "bn":
        return nn.BatchNorm2d(channels, eps=1e-3, momentum=0.03)
    if kind == "syncbn":
        # cumulative moving average: better for short fine-tuning schedules
        distributed = dist.is_available() and dist.is_initialized()
        return nn.SyncBatchNorm(channels, momentum=None) if distributed else nn.BatchNorm2d(channels, momentum=None)
    if kind == "bn1d":
        return nn.BatchNorm1d(channels, momentum=0.1)
    if kind == "frozen":
        return FrozenBatchNorm2d(channels)
    if kind == "gn":
        return nn.GroupNorm(32 if channels % 32 == 0 else 8, channels)
    if kind == "ln":
        return nn.GroupNorm(1, channels)
    raise ValueError(f"unknown norm {kind!r}; expected one of bn, syncbn, bn1d, frozen, gn, ln")


class ConvNormAct(nn.Sequential):
    def __init__(self, cin, cout, k=3, s=1, norm="bn", act=nn.SiLU):
        super().__init__(nn.Conv2d(cin, cout, k, s, k // 2, bias=False), build_norm(norm, cout), act())
