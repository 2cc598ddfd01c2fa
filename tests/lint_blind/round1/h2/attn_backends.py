"""Attention backend selection for the video diffusion UNet.

`attention()` is a thin dispatcher; the caller decides the dropout rate
(it must pass 0 when the module is not training).
"""
import logging
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

log = logging.getLogger(__name__)

try:
    from flash_attn import flash_attn_func
    HAS_FLASH = True
except ImportError:
    HAS_FLASH = False

try:
    import xformers.ops as xops
    HAS_XFORMERS = True
except ImportError:
    HAS_XFORMERS = False


def attention(q, k, v, *, dropout_p: float = 0.0, causal: bool = False, bias: Optional[torch.Tensor] = None,
              backend: str = "auto"):
    """q, k, v: (batch, seq, heads, head_dim)."""
    if backend == "auto":
        if HAS_FLASH and q.is_cuda and q.dtype in (torch.float16, torch.bfloat16) and bias is None:
            backend = "flash"
        elif HAS_XFORMERS and q.is_cuda:
            backend = "xformers"
        else:
            backend = "torch"
    if backend == "flash":
        return flash_attn_func(q, k, v, dropout_p=dropout_p, causal=causal)
    if backend == "xformers":
        attn_bias = xops.LowerTriangularMask() if causal else bias
        return xops.memory_efficient_attention(q, k, v, attn_bias=attn_bias, p=dropout_p)
    out = F.scaled_dot_product_attention(
        q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2),
        attn_mask=bias, dropout_p=dropout_p, is_causal=causal,
    )
    return out.transpose(1, 2)


class SpatialSelfAttention(nn.Module):
    def __init__(self, channels, heads=8, attn_drop=0.0, backend="auto"):
        super().__init__()
        self.heads = heads
        self.norm = nn.GroupNorm(32, channels)
        self.to_qkv = nn.Conv2d(channels, 3 * channels, 1, bias=False)
        self.proj = nn.Conv2d(channels, channels, 1)
        self.attn_drop = attn_drop
        self.backend = backend

    def forward(self, x):
        b, c, h, w = x.shape
        qkv = self.to_qkv(self.norm(x)).reshape(b, 3, self.heads, c // self.heads, h * w)
        q, k, v = qkv.permute(1, 0, 4, 2, 3).unbind(0)  # each (b, hw, heads, d)
        p = self.attn_drop if self.training else 0.0
        out = attention(q, k, v, dropout_p=p, backend=self.backend)
        out = out.permute(0, 2, 3, 1).reshape(b, c, h, w)
        return x + self.proj(out)


class TemporalAttention(nn.Module):
    """Attends over frames independently at every spatial position (causal in time)."""

    def __init__(self, channels, heads=4, attn_drop=0.1, proj_drop=0.1):
        super().__init__()
        self.heads = heads
        self.norm = nn.LayerNorm(channels)
        self.qkv = nn.Linear(channels, 3 * channels, bias=False)
        self.out = nn.Linear(channels, channels)
        self.out_drop = nn.Dropout(proj_drop)
        self.attn_drop = attn_drop

    def forward(self, x, num_frames):
        # x: (b*t, c, h, w) -> (b*h*w, t, c)
        bt, c, h, w = x.shape
        b = bt // num_frames
        seq = x.reshape(b, num_frames, c, h * w).permute(0, 3, 1, 2).reshape(b * h * w, num_frames, c)
        q, k, v = self.qkv(self.norm(seq)).chunk(3, dim=-1)
        q, k, v = [t.reshape(t.shape[0], num_frames, self.heads, c // self.heads) for t in (q, k, v)]
        if self.training:
            drop = self.attn_drop
        else:
            drop = 0.0
        out = attention(q, k, v, dropout_p=drop, causal=True).reshape(b * h * w, num_frames, c)
        seq = seq + self.out_drop(self.out(out))
        return seq.reshape(b, h * w, num_frames, c).permute(0, 2, 3, 1).reshape(bt, c, h, w)


class CrossFrameConditioning(nn.Module):
    def __init__(self, channels, ctx_dim, heads=8, attn_drop=0.0):
        super().__init__()
        self.heads = heads
        self.q = nn.Linear(channels, channels, bias=False)
        self.kv = nn.Linear(ctx_dim, 2 * channels, bias=False)
        self.o = nn.Linear(channels, channels)
        self.attn_drop = attn_drop

    def forward(self, tokens, ctx):
        B, N, C = tokens.shape
        q = self.q(tokens).view(B, N, self.heads, C // self.heads).transpose(1, 2)
        k, v = self.kv(ctx).view(B, ctx.shape[1], 2, self.heads, C // self.heads).permute(2, 0, 3, 1, 4)
        out = F.scaled_dot_product_attention(q, k, v, dropout_p=(self.attn_drop if self.training else 0.0))
        return tokens + self.o(out.transpose(1, 2).reshape(B, N, C))
