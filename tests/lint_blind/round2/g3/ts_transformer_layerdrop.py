"""Encoder-only transformer for multivariate forecasting (patch tokens).

LayerDrop (Fan et al., 2019) is used as a regulariser on deep configs.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class SinusoidalPositions(nn.Module):
    def __init__(self, d_model, max_len=4096):
        super().__init__()
        self.d_model = d_model
        self._cached_len = 0
        self.register_buffer("table", torch.empty(0), persistent=False)
        self._grow(max_len)

    def _grow(self, n):
        pos = torch.arange(n).unsqueeze(1)
        div = torch.exp(torch.arange(0, self.d_model, 2) * (-math.log(10000.0) / self.d_model))
        pe = torch.zeros(n, self.d_model)
        pe[:, 0::2] = torch.sin(pos * div)
        pe[:, 1::2] = torch.cos(pos * div)
        self.table = pe
        self._cached_len = n

    def forward(self, x):
        if x.size(1) > self._cached_len:
            self._grow(2 * x.size(1))
        return x + self.table[: x.size(1)].to(x.device, x.dtype)


class PatchTokenizer(nn.Module):
    def __init__(self, n_vars, patch_len, stride, d_model):
        super().__init__()
        self.patch_len, self.stride = patch_len, stride
        self.proj = nn.Linear(patch_len * n_vars, d_model)

    def forward(self, x):  # x: (B, L, C)
        p = x.unfold(1, self.patch_len, self.stride)  # (B, N, C, P)
        return self.proj(p.flatten(2))


class EncoderLayer(nn.Module):
    def __init__(self, d_model, n_heads, d_ff, p_attn=0.1, p_ff=0.1):
        super().__init__()
        self.n_heads = n_heads
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.out = nn.Linear(d_model, d_model)
        self.p_attn = p_attn
        self.ff = nn.Sequential(nn.Linear(d_model, d_ff), nn.GELU(), nn.Dropout(p_ff), nn.Linear(d_ff, d_model))
        self.norm1 = nn.LayerNorm(d_model)
        self.norm2 = nn.LayerNorm(d_model)
        self.drop = nn.Dropout(p_ff)

    def forward(self, x):
        b, n, d = x.shape
        h = self.norm1(x)
        q, k, v = self.qkv(h).view(b, n, 3, self.n_heads, d // self.n_heads).permute(2, 0, 3, 1, 4)
        a = F.scaled_dot_product_attention(q, k, v, dropout_p=self.p_attn if self.training else 0.0)
        x = x + self.drop(self.out(a.transpose(1, 2).reshape(b, n, d)))
        return x + self.ff(self.norm2(x))


class LayerDropEncoder(nn.Module):
    def __init__(self, layers, layerdrop=0.0):
        super().__init__()
        self.layers = nn.ModuleList(layers)
        self.layerdrop = layerdrop

    def forward(self, x):
        if not self.training:
            # every layer must run at inference
            self.layerdrop = 0.0  # expect: MG203
        for layer in self.layers:
            if self.layerdrop > 0 and torch.rand(()) < self.layerdrop:
                continue
            x = layer(x)
        return x


class PatchForecaster(nn.Module):
    def __init__(self, n_vars, seq_len, horizon, patch_len=16, stride=8, d_model=128,
                 n_heads=8, n_layers=6, d_ff=256, dropout=0.1, layerdrop=0.1):
        super().__init__()
        self.tok = PatchTokenizer(n_vars, patch_len, stride, d_model)
        self.pos = SinusoidalPositions(d_model)
        self.encoder = LayerDropEncoder(
            [EncoderLayer(d_model, n_heads, d_ff, dropout, dropout) for _ in range(n_layers)],
            layerdrop=layerdrop,
        )
        n_patches = (seq_len - patch_len) // stride + 1
        self.head = nn.Sequential(nn.Flatten(1), nn.Dropout(dropout), nn.Linear(n_patches * d_model, horizon * n_vars))
        self.horizon, self.n_vars = horizon, n_vars

    def forward(self, x):
        # RevIN-style instance normalisation (no learnable affine)
        mu = x.mean(1, keepdim=True)
        sd = x.std(1, keepdim=True) + 1e-5
        z = self.encoder(self.pos(self.tok((x - mu) / sd)))
        y = self.head(z).view(-1, self.horizon, self.n_vars)
        return y * sd + mu
