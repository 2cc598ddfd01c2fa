"""Regularisation modules shared by the ConvNeXt-T and SNN baselines.

Stochastic depth rates grow linearly with block depth (`depth_rates`), as in
the ConvNeXt / Swin recipes; they are fixed when the network is built.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


class StochasticDepth(nn.Module):
    """Drops the whole residual branch per sample."""

    def __init__(self, drop_prob: float = 0.1, scale_by_keep: bool = True):
        super().__init__()
        self.drop_prob = drop_prob
        self.scale_by_keep = scale_by_keep

    def forward(self, x):
        if not self.training:
            # identity at test time
            self.drop_prob = 0.0  # expect: MG203
        if self.drop_prob == 0.0:
            return x
        keep = 1.0 - self.drop_prob
        mask = x.new_empty((x.shape[0],) + (1,) * (x.ndim - 1)).bernoulli_(keep)
        if self.scale_by_keep:
            mask.div_(keep)
        return x * mask

    def extra_repr(self):
        return f"drop_prob={self.drop_prob:.3f}"


class GaussianNoise(nn.Module):
    """Additive input noise, only while training."""

    def __init__(self, sigma: float = 0.05):
        super().__init__()
        self.sigma = sigma

    def forward(self, x):
        if self.training and self.sigma > 0:
            x = x + torch.randn_like(x) * self.sigma
        return x


def depth_rates(depths, max_rate: float):
    """Per-block drop rates, 0 for the first block and max_rate for the last."""
    total = sum(depths)
    rates = torch.linspace(0, max_rate, total).tolist()
    out, i = [], 0
    for d in depths:
        out.append(rates[i:i + d])
        i += d
    return out


class SELUBlock(nn.Module):
    def __init__(self, d_in, d_out, p=0.05):
        super().__init__()
        self.lin = nn.Linear(d_in, d_out)
        self.p = p
        nn.init.kaiming_normal_(self.lin.weight, nonlinearity="linear")
        nn.init.zeros_(self.lin.bias)

    def forward(self, x):
        h = F.selu(self.lin(x))
        return F.alpha_dropout(h, self.p)  # expect: MG201


class SelfNormalizingHead(nn.Module):
    """Tabular head from the SNN paper: SELU + alpha dropout, no normalization layers."""

    def __init__(self, d_in, hidden=(512, 256), n_out=1, p=0.05, input_noise=0.0):
        super().__init__()
        self.noise = GaussianNoise(input_noise)
        dims = [d_in, *hidden]
        self.blocks = nn.Sequential(*[SELUBlock(a, b, p) for a, b in zip(dims[:-1], dims[1:])])
        self.out = nn.Linear(dims[-1], n_out)

    def forward(self, x):
        return self.out(self.blocks(self.noise(x)))


class ConvNeXtBlock(nn.Module):
    def __init__(self, dim, drop_path=0.0, layer_scale_init=1e-6):
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, kernel_size=7, padding=3, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.pw1 = nn.Linear(dim, 4 * dim)
        self.pw2 = nn.Linear(4 * dim, dim)
        self.gamma = nn.Parameter(layer_scale_init * torch.ones(dim)) if layer_scale_init > 0 else None
        self.drop_path = StochasticDepth(drop_path) if drop_path > 0 else nn.Identity()

    def forward(self, x):
        shortcut = x
        x = self.dwconv(x).permute(0, 2, 3, 1)
        x = self.pw2(F.gelu(self.pw1(self.norm(x))))
        if self.gamma is not None:
            x = self.gamma * x
        return shortcut + self.drop_path(x.permute(0, 3, 1, 2))
