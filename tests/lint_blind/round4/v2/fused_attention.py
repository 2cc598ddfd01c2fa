"""Multi-head self-attention that dispatches to flash-attn when available.

flash-attn expects (batch, seqlen, heads, head_dim) half-precision tensors; the
SDPA fallback wants (batch, heads, seqlen, head_dim).
"""
import math
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

try:
    from flash_attn import flash_attn_func
    _FLASH_OK = True
except ImportError:  # CPU boxes, old GPUs
    flash_attn_func = None
    _FLASH_OK = False


class FusedSelfAttention(nn.Module):
    def __init__(self, dim: int, num_heads: int, attn_dropout: float = 0.0,
                 causal: bool = False, prefer_flash: bool = True):
        super().__init__()
        if dim % num_heads:
            raise ValueError(f"dim={dim} is not divisible by num_heads={num_heads}")
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.scale = 1.0 / math.sqrt(self.head_dim)
        self.causal = causal
        self.dropout_p = attn_dropout
        self.prefer_flash = prefer_flash and _FLASH_OK
        self.to_qkv = nn.Linear(dim, dim * 3)
        self.to_out = nn.Linear(dim, dim)

    def _flash_path(self, q, k, v):
        orig = q.dtype
        q, k, v = (t.to(torch.bfloat16) for t in (q, k, v))
        out = flash_attn_func(q, k, v, dropout_p=self.dropout_p,  # expect: MG202
                              softmax_scale=self.scale, causal=self.causal)
        return out.to(orig)

    def _sdpa_path(self, q, k, v, mask: Optional[torch.Tensor]):
        q, k, v = (t.transpose(1, 2) for t in (q, k, v))
        p = self.dropout_p if self.training else 0.0
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p,
                                             is_causal=self.causal and mask is None,
                                             scale=self.scale)
        return out.transpose(1, 2)

    def forward(self, x: torch.Tensor, mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        b, n, _ = x.shape
        qkv = self.to_qkv(x).view(b, n, 3, self.num_heads, self.head_dim)
        q, k, v = qkv.unbind(dim=2)
        use_flash = self.prefer_flash and mask is None and x.is_cuda
        out = self._flash_path(q, k, v) if use_flash else self._sdpa_path(q, k, v, mask)
        return self.to_out(out.reshape(b, n, -1))


class AttnBlock(nn.Module):
    """Pre-LN block: attention + SwiGLU feed-forward."""

    def __init__(self, dim, heads, mlp_ratio=4.0, attn_dropout=0.1, dropout=0.1, causal=True):
        super().__init__()
        hidden = int(dim * mlp_ratio * 2 / 3)
        self.norm1 = nn.LayerNorm(dim)
        self.attn = FusedSelfAttention(dim, heads, attn_dropout=attn_dropout, causal=causal)
        self.norm2 = nn.LayerNorm(dim)
        self.w12 = nn.Linear(dim, 2 * hidden)
        self.w3 = nn.Linear(hidden, dim)
        self.drop = nn.Dropout(dropout)

    def forward(self, x, mask=None):
        x = x + self.drop(self.attn(self.norm1(x), mask))
        a, g = self.w12(self.norm2(x)).chunk(2, dim=-1)
        return x + self.drop(self.w3(F.silu(g) * a))
