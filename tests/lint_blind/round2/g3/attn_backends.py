# Copyright (c) the lmkit authors.
# Attention with pluggable kernels: flash-attn 2, xformers, or torch SDPA.
import logging
import math
from typing import Optional

import torch
from torch import nn
from torch.nn import functional as F

logger = logging.getLogger(__name__)

try:
    from flash_attn import flash_attn_func
except ImportError:  # pragma: no cover
    flash_attn_func = None

try:
    import xformers.ops as xops
except ImportError:  # pragma: no cover
    xops = None


def pick_backend(requested: str = "auto") -> str:
    if requested != "auto":
        return requested
    if flash_attn_func is not None and torch.cuda.is_available():
        return "flash"
    if xops is not None:
        return "xformers"
    return "sdpa"


class RotaryEmbedding(nn.Module):
    def __init__(self, head_dim: int, base: float = 10000.0):
        super().__init__()
        inv = 1.0 / (base ** (torch.arange(0, head_dim, 2).float() / head_dim))
        self.register_buffer("inv_freq", inv, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x: (b, t, h, d)
        t = torch.arange(x.shape[1], device=x.device, dtype=self.inv_freq.dtype)
        freqs = torch.outer(t, self.inv_freq)
        cos, sin = freqs.cos()[None, :, None, :], freqs.sin()[None, :, None, :]
        x1, x2 = x[..., ::2], x[..., 1::2]
        return torch.stack((x1 * cos - x2 * sin, x1 * sin + x2 * cos), dim=-1).flatten(-2)


class CausalSelfAttention(nn.Module):
    """Multi-head causal attention; the kernel is chosen once at construction."""

    def __init__(self, d_model: int, n_heads: int, attn_pdrop: float = 0.1,
                 resid_pdrop: float = 0.1, backend: str = "auto", rotary: bool = True):
        super().__init__()
        self.n_heads = n_heads
        self.head_dim = d_model // n_heads
        self.c_attn = nn.Linear(d_model, 3 * d_model, bias=False)
        self.c_proj = nn.Linear(d_model, d_model, bias=False)
        self.resid_dropout = nn.Dropout(resid_pdrop)
        self.attn_pdrop = attn_pdrop
        self.rope = RotaryEmbedding(self.head_dim) if rotary else None
        self.backend = pick_backend(backend)
        logger.info("attention backend: %s", self.backend)

    def _p(self) -> float:
        return self.attn_pdrop if self.training else 0.0

    def forward(self, x: torch.Tensor, bias: Optional[torch.Tensor] = None) -> torch.Tensor:
        b, t, c = x.size()
        q, k, v = self.c_attn(x).view(b, t, 3, self.n_heads, self.head_dim).unbind(dim=2)
        if self.rope is not None:
            q, k = self.rope(q), self.rope(k)

        if self.backend == "flash":
            # flash-attn wants (b, t, h, d) in fp16/bf16
            y = flash_attn_func(q.to(torch.bfloat16), k.to(torch.bfloat16), v.to(torch.bfloat16),  # expect: MG202
                                dropout_p=self.attn_pdrop, causal=True).to(x.dtype)
        elif self.backend == "xformers":
            mask = bias if bias is not None else xops.LowerTriangularMask()
            y = xops.memory_efficient_attention(q, k, v, attn_bias=mask, p=self._p())
        else:
            q, k, v = (z.transpose(1, 2) for z in (q, k, v))
            y = F.scaled_dot_product_attention(
                q, k, v,
                attn_mask=bias,
                dropout_p=self._p(),
                is_causal=bias is None,
            ).transpose(1, 2)

        y = y.contiguous().view(b, t, c)
        return self.resid_dropout(self.c_proj(y))


class SwiGLU(nn.Module):
    def __init__(self, d_model: int, hidden: int, pdrop: float = 0.0):
        super().__init__()
        self.w1 = nn.Linear(d_model, hidden, bias=False)
        self.w3 = nn.Linear(d_model, hidden, bias=False)
        self.w2 = nn.Linear(hidden, d_model, bias=False)
        self.drop = nn.Dropout(pdrop)

    def forward(self, x):
        return self.drop(self.w2(F.silu(self.w1(x)) * self.w3(x)))


class DecoderLayer(nn.Module):
    def __init__(self, d_model, n_heads, pdrop=0.1, backend="auto"):
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model)
        self.attn = CausalSelfAttention(d_model, n_heads, pdrop, pdrop, backend)
        self.ln2 = nn.LayerNorm(d_model)
        self.ffn = SwiGLU(d_model, int(8 * d_model / 3), pdrop)

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.ffn(self.ln2(x))
