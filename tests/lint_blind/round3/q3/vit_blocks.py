"""Building blocks for the hierarchical ViT variants (hvit_s / hvit_b)."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class MultiHeadSelfAttention(nn.Module):
    def __init__(self, dim, heads=8, qkv_bias=True, attn_drop=0.0, proj_drop=0.0):
        super().__init__()
        assert dim % heads == 0
        self.heads = heads
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.attn_drop = attn_drop
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(proj_drop)

    def forward(self, x, mask=None):
        B, N, C = x.shape
        q, k, v = self.qkv(x).reshape(B, N, 3, self.heads, C // self.heads).permute(2, 0, 3, 1, 4)
        x = F.scaled_dot_product_attention(  # expect: MG202
            q, k, v, attn_mask=mask,
            dropout_p=self.attn_drop,
        )
        x = x.transpose(1, 2).reshape(B, N, C)
        return self.proj_drop(self.proj(x))


class Mlp(nn.Module):
    def __init__(self, dim, ratio=4.0, p=0.0):
        super().__init__()
        hidden = int(dim * ratio)
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)
        self.p = p

    def forward(self, x):
        x = F.gelu(self.fc1(x))
        x = F.dropout(x, self.p, self.training)
        return F.dropout(self.fc2(x), self.p, self.training)


class TokenDrop(nn.Module):
    """Randomly keeps a subset of patch tokens during training (cls token always kept)."""

    def __init__(self, prob=0.25, num_prefix=1):
        super().__init__()
        self.prob = prob
        self.num_prefix = num_prefix

    def forward(self, x):
        if not self.training:
            self.prob = 0.0  # expect: MG203
        if self.prob == 0.0:
            return x
        prefix, tokens = x[:, :self.num_prefix], x[:, self.num_prefix:]
        B, L, _ = tokens.shape
        keep = max(1, int(L * (1.0 - self.prob)))
        idx = torch.rand(B, L, device=x.device).argsort(dim=1)[:, :keep]
        tokens = tokens.gather(1, idx.unsqueeze(-1).expand(-1, -1, tokens.shape[-1]))
        return torch.cat([prefix, tokens], dim=1)


class LayerScale(nn.Module):
    def __init__(self, dim, init=1e-5):
        super().__init__()
        self.gamma = nn.Parameter(init * torch.ones(dim))

    def forward(self, x):
        return x * self.gamma


def drop_path(x, p, training):
    if p == 0.0 or not training:
        return x
    keep = 1.0 - p
    mask = x.new_empty((x.shape[0],) + (1,) * (x.ndim - 1)).bernoulli_(keep)
    return x * mask / keep


class Block(nn.Module):
    def __init__(self, dim, heads, mlp_ratio=4.0, drop=0.0, attn_drop=0.0, dpr=0.0, ls=None):
        super().__init__()
        self.n1 = nn.LayerNorm(dim)
        self.attn = MultiHeadSelfAttention(dim, heads, attn_drop=attn_drop, proj_drop=drop)
        self.ls1 = LayerScale(dim, ls) if ls else nn.Identity()
        self.n2 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, mlp_ratio, drop)
        self.ls2 = LayerScale(dim, ls) if ls else nn.Identity()
        self.dpr = dpr

    def forward(self, x, mask=None):
        x = x + drop_path(self.ls1(self.attn(self.n1(x), mask)), self.dpr, self.training)
        x = x + drop_path(self.ls2(self.mlp(self.n2(x))), self.dpr, self.training)
        return x


class Stage(nn.Module):
    def __init__(self, dim, depth, heads, dprs, token_drop=0.0, **kw):
        super().__init__()
        self.token_drop = TokenDrop(token_drop) if token_drop > 0 else nn.Identity()
        self.blocks = nn.ModuleList([Block(dim, heads, dpr=d, **kw) for d in dprs[:depth]])
        self.scale = 1.0 / math.sqrt(depth)

    def forward(self, x):
        x = self.token_drop(x)
        for blk in self.blocks:
            x = blk(x)
        return x
