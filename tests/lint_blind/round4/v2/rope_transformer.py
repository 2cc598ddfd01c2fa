"""Rotary-position transformer encoder used for the token-classification experiments.

Two attention back-ends: PyTorch SDPA (default) and an explicit softmax path that
can return attention maps for probing.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


class Rotary(nn.Module):
    def __init__(self, head_dim, base=10000.0):
        super().__init__()
        inv = 1.0 / (base ** (torch.arange(0, head_dim, 2).float() / head_dim))
        self.register_buffer("inv_freq", inv, persistent=False)

    def forward(self, q, k):
        t = torch.arange(q.size(-2), device=q.device, dtype=self.inv_freq.dtype)
        freqs = torch.outer(t, self.inv_freq)
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos()[None, None], emb.sin()[None, None]
        return q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin


class RotaryAttention(nn.Module):
    def __init__(self, dim, heads, attn_dropout=0.1, use_sdpa=True):
        super().__init__()
        self.h = heads
        self.dh = dim // heads
        self.qkv = nn.Linear(dim, 3 * dim, bias=False)
        self.o = nn.Linear(dim, dim, bias=False)
        self.rotary = Rotary(self.dh)
        self.attn_dropout = attn_dropout
        self.attn_drop = nn.Dropout(attn_dropout)
        self.use_sdpa = use_sdpa

    def forward(self, x, key_padding_mask=None, return_probs=False):
        b, n, d = x.shape
        q, k, v = self.qkv(x).view(b, n, 3, self.h, self.dh).permute(2, 0, 3, 1, 4)
        q, k = self.rotary(q, k)
        bias = None
        if key_padding_mask is not None:
            bias = torch.zeros(b, 1, 1, n, device=x.device, dtype=q.dtype)
            bias = bias.masked_fill(key_padding_mask[:, None, None, :], float("-inf"))

        if self.use_sdpa and not return_probs:
            out = F.scaled_dot_product_attention(
                q, k, v, attn_mask=bias,
                dropout_p=self.attn_dropout if self.training else 0.0,
            )
            probs = None
        else:
            scores = q @ k.transpose(-2, -1) / math.sqrt(self.dh)
            if bias is not None:
                scores = scores + bias
            probs = scores.softmax(dim=-1)
            out = self.attn_drop(probs) @ v
        out = self.o(out.transpose(1, 2).reshape(b, n, d))
        return (out, probs) if return_probs else out


class EncoderLayer(nn.Module):
    def __init__(self, dim, heads, ff_mult=4, dropout=0.1):
        super().__init__()
        self.n1 = nn.LayerNorm(dim)
        self.attn = RotaryAttention(dim, heads, attn_dropout=dropout)
        self.n2 = nn.LayerNorm(dim)
        self.ff_in = nn.Linear(dim, ff_mult * dim)
        self.ff_out = nn.Linear(ff_mult * dim, dim)
        self.p = dropout

    def forward(self, x, mask=None):
        x = x + F.dropout(self.attn(self.n1(x), mask), self.p, self.training)
        h = F.dropout(F.gelu(self.ff_in(self.n2(x))), p=self.p, training=self.training)
        return x + nn.functional.dropout(self.ff_out(h), p=self.p, training=self.training)


class TokenTagger(nn.Module):
    def __init__(self, vocab, n_tags, dim=384, depth=6, heads=6, dropout=0.1, word_dropout=0.05):
        super().__init__()
        self.emb = nn.Embedding(vocab, dim, padding_idx=0)
        self.layers = nn.ModuleList([EncoderLayer(dim, heads, dropout=dropout) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim)
        self.tagger = nn.Linear(dim, n_tags)
        self.word_dropout = word_dropout

    def forward(self, tokens):
        mask = tokens.eq(0)
        x = self.emb(tokens)
        if self.training and self.word_dropout > 0:
            keep = torch.rand(tokens.shape, device=tokens.device) >= self.word_dropout
            x = x * keep.unsqueeze(-1)
        for layer in self.layers:
            x = layer(x, mask)
        return self.tagger(self.norm(x))
