"""Divided space-time attention video transformer for surgical phase recognition.

Uses flash-attention kernels when available (fp16/bf16 on Ampere+).
"""
import torch
import torch.nn as nn
from einops import rearrange

try:
    from flash_attn import flash_attn_func
except ImportError:  # pragma: no cover
    flash_attn_func = None


class StochasticDepth(nn.Module):
    """Drops the whole residual branch for a sample with probability ``drop_rate``."""

    def __init__(self, drop_rate):
        super().__init__()
        self.drop_rate = drop_rate

    def forward(self, x):
        if not self.training:
            self.drop_rate = 0.0  # expect: MG203
        if self.drop_rate == 0.0:
            return x
        keep = 1.0 - self.drop_rate
        mask = torch.rand(x.shape[0], *([1] * (x.dim() - 1)), device=x.device) < keep
        return x * mask.to(x.dtype) / keep


class FlashMHA(nn.Module):
    def __init__(self, dim, num_heads, attn_p=0.0):
        super().__init__()
        self.h = num_heads
        self.scale = (dim // num_heads) ** -0.5
        self.attn_p = attn_p
        self.to_qkv = nn.Linear(dim, dim * 3)
        self.out = nn.Linear(dim, dim)

    def forward(self, x):
        q, k, v = rearrange(self.to_qkv(x), "b n (three h d) -> three b n h d",
                            three=3, h=self.h)
        y = flash_attn_func(q, k, v, dropout_p=self.attn_p,  # expect: MG202
                            softmax_scale=self.scale, causal=False)
        return self.out(rearrange(y, "b n h d -> b n (h d)"))


class DividedBlock(nn.Module):
    def __init__(self, dim, heads, attn_p, sd_rate, mlp_ratio=4):
        super().__init__()
        self.norm_t = nn.LayerNorm(dim)
        self.attn_t = FlashMHA(dim, heads, attn_p)
        self.norm_s = nn.LayerNorm(dim)
        self.attn_s = FlashMHA(dim, heads, attn_p)
        self.norm_m = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, dim * mlp_ratio), nn.GELU(),
                                 nn.Linear(dim * mlp_ratio, dim))
        self.sd = StochasticDepth(sd_rate)

    def forward(self, x, T):
        # temporal attention: tokens at the same spatial position across frames
        xt = rearrange(x, "b (t s) d -> (b s) t d", t=T)
        xt = xt + self.sd(self.attn_t(self.norm_t(xt)))
        x = rearrange(xt, "(b s) t d -> b (t s) d", s=x.shape[1] // T)
        # spatial attention: tokens within one frame
        xs = rearrange(x, "b (t s) d -> (b t) s d", t=T)
        xs = xs + self.sd(self.attn_s(self.norm_s(xs)))
        x = rearrange(xs, "(b t) s d -> b (t s) d", t=T)
        return x + self.sd(self.mlp(self.norm_m(x)))


class SurgicalPhaseNet(nn.Module):
    def __init__(self, n_phases=7, frames=16, img=224, patch=16, dim=512, depth=8,
                 heads=8, attn_p=0.1, sd=0.2):
        super().__init__()
        self.T = frames
        self.embed = nn.Conv2d(3, dim, patch, patch)
        n_space = (img // patch) ** 2
        self.pos_s = nn.Parameter(torch.zeros(1, n_space, dim))
        self.pos_t = nn.Parameter(torch.zeros(1, frames, 1, dim))
        self.blocks = nn.ModuleList(
            DividedBlock(dim, heads, attn_p, sd * i / max(depth - 1, 1)) for i in range(depth))
        self.norm = nn.LayerNorm(dim)
        self.drop = nn.Dropout(0.3)
        self.fc = nn.Linear(dim, n_phases)

    def forward(self, clip):
        # clip: (B, T, C, H, W)
        B, T = clip.shape[:2]
        x = self.embed(rearrange(clip, "b t c h w -> (b t) c h w"))
        x = rearrange(x, "(b t) d h w -> b t (h w) d", b=B) + self.pos_s.unsqueeze(1)
        x = rearrange(x + self.pos_t, "b t s d -> b (t s) d")
        for blk in self.blocks:
            x = blk(x, T)
        x = self.norm(x).mean(dim=1)
        return self.fc(self.drop(x))
