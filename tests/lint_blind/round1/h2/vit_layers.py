""" Transformer layers for the multimodal ViT encoder (image tokens + text context).

Loosely follows the structure of timm's vision_transformer, trimmed to what
the captioning project needs.
"""
import os
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

_FUSED = os.environ.get("MM_FUSED_ATTN", "1") == "1" and hasattr(F, "scaled_dot_product_attention")


def drop_path(x, drop_prob: float = 0.0, training: bool = False, scale_by_keep: bool = True):
    if drop_prob == 0.0 or not training:
        return x
    keep_prob = 1 - drop_prob
    shape = (x.shape[0],) + (1,) * (x.ndim - 1)
    random_tensor = x.new_empty(shape).bernoulli_(keep_prob)
    if keep_prob > 0.0 and scale_by_keep:
        random_tensor.div_(keep_prob)
    return x * random_tensor


class DropPath(nn.Module):
    def __init__(self, drop_prob: float = 0.0):
        super().__init__()
        self.drop_prob = drop_prob

    def forward(self, x):
        return drop_path(x, self.drop_prob, self.training)


class Attention(nn.Module):
    def __init__(self, dim, num_heads=8, qkv_bias=False, qk_norm=False, attn_drop=0.0, proj_drop=0.0):
        super().__init__()
        assert dim % num_heads == 0, "dim should be divisible by num_heads"
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.scale = self.head_dim ** -0.5
        self.fused_attn = _FUSED
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.q_norm = nn.LayerNorm(self.head_dim) if qk_norm else nn.Identity()
        self.k_norm = nn.LayerNorm(self.head_dim) if qk_norm else nn.Identity()
        self.attn_drop = nn.Dropout(attn_drop)
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(proj_drop)

    def forward(self, x):
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        q, k = self.q_norm(q), self.k_norm(k)
        if self.fused_attn:
            x = F.scaled_dot_product_attention(q, k, v, dropout_p=self.attn_drop.p)  # expect: MG202
        else:
            q = q * self.scale
            attn = (q @ k.transpose(-2, -1)).softmax(dim=-1)
            attn = self.attn_drop(attn)
            x = attn @ v
        x = x.transpose(1, 2).reshape(B, N, C)
        return self.proj_drop(self.proj(x))


class CrossAttention(nn.Module):
    """Image tokens attend to (padded) text context."""

    def __init__(self, dim, ctx_dim, num_heads=8, attn_drop=0.1):
        super().__init__()
        self.h = num_heads
        self.to_q = nn.Linear(dim, dim, bias=False)
        self.to_kv = nn.Linear(ctx_dim, 2 * dim, bias=False)
        self.to_out = nn.Linear(dim, dim)
        self.attn_p = attn_drop

    def forward(self, x, context, context_mask: Optional[torch.Tensor] = None):
        B, N, C = x.shape
        M = context.shape[1]
        q = self.to_q(x).view(B, N, self.h, C // self.h).transpose(1, 2)
        k, v = self.to_kv(context).view(B, M, 2, self.h, C // self.h).permute(2, 0, 3, 1, 4)
        sdpa_kwargs = {"dropout_p": self.attn_p}
        if context_mask is not None:
            # True = keep; broadcast over heads and queries
            sdpa_kwargs["attn_mask"] = context_mask[:, None, None, :].bool()
        out = F.scaled_dot_product_attention(q, k, v, **sdpa_kwargs)  # expect: MG202
        out = out.transpose(1, 2).reshape(B, N, C)
        return self.to_out(out)


class Mlp(nn.Module):
    def __init__(self, in_features, hidden_features=None, drop=0.0):
        super().__init__()
        hidden_features = hidden_features or in_features * 4
        self.fc1 = nn.Linear(in_features, hidden_features)
        self.act = nn.GELU()
        self.drop1 = nn.Dropout(drop)
        self.fc2 = nn.Linear(hidden_features, in_features)
        self.drop2 = nn.Dropout(drop)

    def forward(self, x):
        return self.drop2(self.fc2(self.drop1(self.act(self.fc1(x)))))


class LayerScale(nn.Module):
    def __init__(self, dim, init_values=1e-5):
        super().__init__()
        self.gamma = nn.Parameter(init_values * torch.ones(dim))

    def forward(self, x):
        return x * self.gamma


class MultimodalBlock(nn.Module):
    def __init__(self, dim, ctx_dim, num_heads, mlp_ratio=4.0, drop=0.0, attn_drop=0.0, drop_path_rate=0.0,
                 init_values=None):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, num_heads, qkv_bias=True, attn_drop=attn_drop, proj_drop=drop)
        self.ls1 = LayerScale(dim, init_values) if init_values else nn.Identity()
        self.norm_x = nn.LayerNorm(dim)
        self.xattn = CrossAttention(dim, ctx_dim, num_heads, attn_drop=attn_drop)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio), drop=drop)
        self.ls2 = LayerScale(dim, init_values) if init_values else nn.Identity()
        self.drop_path = DropPath(drop_path_rate) if drop_path_rate > 0.0 else nn.Identity()

    def forward(self, x, context, context_mask=None):
        x = x + self.drop_path(self.ls1(self.attn(self.norm1(x))))
        x = x + self.xattn(self.norm_x(x), context, context_mask)
        x = x + self.drop_path(self.ls2(self.mlp(self.norm2(x))))
        return x
