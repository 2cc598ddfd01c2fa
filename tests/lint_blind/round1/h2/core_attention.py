"""Core attention for the packed-sequence decoder (flash-attn varlen) and the
retrieval cross-attention (xformers), with a pure-PyTorch fallback for tests."""
import math
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

try:
    from flash_attn import flash_attn_varlen_func
except ImportError:
    flash_attn_varlen_func = None

try:
    from xformers import ops as xops
except ImportError:
    xops = None


class VarlenFlashAttention(nn.Module):
    def __init__(self, causal: bool = True, softmax_scale: Optional[float] = None, attention_dropout: float = 0.0):
        super().__init__()
        self.causal = causal
        self.softmax_scale = softmax_scale
        self.dropout_p = attention_dropout
        self.last_max_seqlen = 0  # logging only

    def _reference(self, q, k, v, cu_seqlens, dropout_p):
        outs = []
        for s, e in zip(cu_seqlens[:-1].tolist(), cu_seqlens[1:].tolist()):
            qi, ki, vi = (t[s:e].transpose(0, 1) for t in (q, k, v))
            outs.append(F.scaled_dot_product_attention(qi, ki, vi, dropout_p=dropout_p, is_causal=self.causal,
                                                       scale=self.softmax_scale).transpose(0, 1))
        return torch.cat(outs)

    def forward(self, q, k, v, cu_seqlens, max_seqlen):
        """q, k, v: (total_tokens, heads, head_dim); cu_seqlens: (batch + 1,) int32."""
        dropout_p = self.dropout_p if self.training else 0.0
        self.last_max_seqlen = int(max_seqlen)
        if flash_attn_varlen_func is None or not q.is_cuda:
            return self._reference(q, k, v, cu_seqlens, dropout_p)
        return flash_attn_varlen_func(
            q, k, v, cu_seqlens, cu_seqlens, max_seqlen, max_seqlen,
            dropout_p=dropout_p,
            softmax_scale=self.softmax_scale,
            causal=self.causal,
        )


class RetrievalCrossAttention(nn.Module):
    def __init__(self, d_model, d_mem, n_heads=8, attn_dropout=0.1, out_dropout=0.1):
        super().__init__()
        self.n_heads = n_heads
        self.d_head = d_model // n_heads
        self.q = nn.Linear(d_model, d_model, bias=False)
        self.kv = nn.Linear(d_mem, 2 * d_model, bias=False)
        self.o = nn.Linear(d_model, d_model)
        self.attn_dropout = attn_dropout
        self.out_dropout = nn.Dropout(out_dropout)

    def forward(self, x, memory, memory_bias=None):
        b, n, _ = x.shape
        q = self.q(x).view(b, n, self.n_heads, self.d_head)
        k, v = self.kv(memory).view(b, memory.shape[1], 2, self.n_heads, self.d_head).unbind(2)
        p = self.attn_dropout if self.training else 0.0
        if xops is not None and x.is_cuda:
            out = xops.memory_efficient_attention(q, k, v, attn_bias=memory_bias, p=p)
        else:
            scores = torch.einsum("bnhd,bmhd->bhnm", q, k) / math.sqrt(self.d_head)
            if memory_bias is not None:
                scores = scores + memory_bias
            probs = F.dropout(scores.softmax(-1), p=p, training=self.training)
            out = torch.einsum("bhnm,bmhd->bnhd", probs, v)
        return self.out_dropout(self.o(out.reshape(b, n, -1)))


class PackedDecoderLayer(nn.Module):
    def __init__(self, hidden, heads, attn_dropout=0.0, hidden_dropout=0.1):
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(hidden)
        self.qkv = nn.Linear(hidden, 3 * hidden)
        self.core = VarlenFlashAttention(causal=True, attention_dropout=attn_dropout)
        self.proj = nn.Linear(hidden, hidden)
        self.norm2 = nn.LayerNorm(hidden)
        self.mlp = nn.Sequential(nn.Linear(hidden, 4 * hidden), nn.GELU(), nn.Linear(4 * hidden, hidden))
        self.drop = nn.Dropout(hidden_dropout)

    def forward(self, x, cu_seqlens, max_seqlen):
        T, H = x.shape
        q, k, v = self.qkv(self.norm1(x)).view(T, 3, self.heads, H // self.heads).unbind(1)
        x = x + self.drop(self.proj(self.core(q, k, v, cu_seqlens, max_seqlen).reshape(T, H)))
        return x + self.drop(self.mlp(self.norm2(x)))
