"""Attention layers shared by the encoder, the decoder and the perceiver resampler."""
from typing import Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from einops import rearrange

try:
    from flash_attn import flash_attn_varlen_func
except ImportError:
    flash_attn_varlen_func = None

try:
    from xformers.ops import memory_efficient_attention, fmha
except ImportError:
    memory_efficient_attention = None


class EncoderAttention(nn.Module):
    def __init__(self, dim: int, heads: int = 8, attn_drop: float = 0.0, proj_drop: float = 0.0):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, dim * 3)
        self.attn_drop = nn.Dropout(attn_drop)
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(proj_drop)

    def forward(self, x: torch.Tensor, key_padding_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        q, k, v = rearrange(self.qkv(x), "b n (three h d) -> three b h n d", three=3, h=self.heads)
        mask = None
        if key_padding_mask is not None:
            mask = ~key_padding_mask[:, None, None, :]
        x = F.scaled_dot_product_attention(
            q, k, v, attn_mask=mask,
            dropout_p=self.attn_drop.p if self.training else 0.0,
        )
        return self.proj_drop(self.proj(rearrange(x, "b h n d -> b n (h d)")))


class PackedFlashAttention(nn.Module):
    """Variable-length (packed) sequences; cu_seqlens marks the boundaries."""

    def __init__(self, dim: int, heads: int, dropout: float = 0.1, causal: bool = True):
        super().__init__()
        self.heads, self.causal = heads, causal
        self.dropout_p = dropout
        self.wqkv = nn.Linear(dim, 3 * dim, bias=False)
        self.wo = nn.Linear(dim, dim, bias=False)

    def forward(self, x: torch.Tensor, cu_seqlens: torch.Tensor, max_seqlen: int) -> torch.Tensor:
        # x: (total_tokens, dim)
        q, k, v = rearrange(self.wqkv(x), "t (three h d) -> three t h d", three=3, h=self.heads)
        drop = self.dropout_p if self.training else 0.0
        out = flash_attn_varlen_func(
            q, k, v, cu_seqlens, cu_seqlens, max_seqlen, max_seqlen,
            dropout_p=drop, causal=self.causal,
        )
        return self.wo(rearrange(out, "t h d -> t (h d)"))


class BlockDiagonalAttention(nn.Module):
    """xformers kernel for a batch of concatenated image-token sequences."""

    def __init__(self, dim: int, heads: int, p: float = 0.0):
        super().__init__()
        self.heads, self.p = heads, p
        self.to_qkv = nn.Linear(dim, 3 * dim)
        self.out = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor, seqlens) -> torch.Tensor:
        bias = fmha.BlockDiagonalMask.from_seqlens(seqlens)
        q, k, v = rearrange(self.to_qkv(x), "1 t (three h d) -> three 1 t h d", three=3, h=self.heads)
        y = memory_efficient_attention(q, k, v, attn_bias=bias, p=self.p if self.training else 0.0)
        return self.out(rearrange(y, "1 t h d -> 1 t (h d)"))


class CachedDecoderAttention(nn.Module):
    """Causal self-attention with an optional KV cache for incremental decoding."""

    def __init__(self, dim: int, heads: int, max_batch: int = 8, max_len: int = 2048, dropout: float = 0.0):
        super().__init__()
        self.heads, self.hd = heads, dim // heads
        self.q = nn.Linear(dim, dim, bias=False)
        self.kv = nn.Linear(dim, 2 * dim, bias=False)
        self.o = nn.Linear(dim, dim, bias=False)
        self.dropout = dropout
        self.register_buffer("k_cache", torch.zeros(max_batch, heads, max_len, self.hd), persistent=False)
        self.register_buffer("v_cache", torch.zeros(max_batch, heads, max_len, self.hd), persistent=False)

    def forward(self, x: torch.Tensor, start_pos: int = 0, use_cache: bool = False) -> torch.Tensor:
        b, t, _ = x.shape
        q = rearrange(self.q(x), "b t (h d) -> b h t d", h=self.heads)
        k, v = rearrange(self.kv(x), "b t (two h d) -> two b h t d", two=2, h=self.heads)
        if use_cache:
            self.k_cache[:b, :, start_pos:start_pos + t] = k
            self.v_cache[:b, :, start_pos:start_pos + t] = v
            k = self.k_cache[:b, :, :start_pos + t]
            v = self.v_cache[:b, :, :start_pos + t]
        p = self.dropout if self.training else 0.0
        y = F.scaled_dot_product_attention(q, k, v, dropout_p=p, is_causal=(t > 1 and not use_cache) or start_pos == 0)
        return self.o(rearrange(y, "b h t d -> b t (h d)"))


class PerceiverCrossAttention(nn.Module):
    """Latents attend to media features; no attention dropout in this block."""

    def __init__(self, dim: int, heads: int = 8):
        super().__init__()
        self.heads = heads
        self.norm_media = nn.LayerNorm(dim)
        self.norm_latents = nn.LayerNorm(dim)
        self.to_q = nn.Linear(dim, dim, bias=False)
        self.to_kv = nn.Linear(dim, 2 * dim, bias=False)
        self.to_out = nn.Linear(dim, dim, bias=False)

    def forward(self, media: torch.Tensor, latents: torch.Tensor) -> torch.Tensor:
        media, latents = self.norm_media(media), self.norm_latents(latents)
        kv_input = torch.cat([media, latents], dim=1)
        q = rearrange(self.to_q(latents), "b n (h d) -> b h n d", h=self.heads)
        k, v = rearrange(self.to_kv(kv_input), "b n (two h d) -> two b h n d", two=2, h=self.heads)
        out = F.scaled_dot_product_attention(q, k, v, dropout_p=0.0)
        return self.to_out(rearrange(out, "b h n d -> b n (h d)"))
