"""ViT building blocks with optional FlashAttention kernels."""
from functools import partial

import torch
import torch.nn as nn
import torch.nn.functional as F

try:
    from flash_attn import flash_attn_func
    HAS_FLASH = True
except ImportError:  # pragma: no cover
    flash_attn_func = None
    HAS_FLASH = False


class StochasticDepth(nn.Module):
    """Drops the residual branch per sample."""

    def __init__(self, drop_prob: float = 0.0):
        super().__init__()
        self.drop_prob = drop_prob

    def forward(self, x):
        if not self.training:
            self.drop_prob = 0.0  # expect: MG203
        if self.drop_prob == 0.0:
            return x
        keep = 1.0 - self.drop_prob
        shape = (x.shape[0],) + (1,) * (x.ndim - 1)
        mask = x.new_empty(shape).bernoulli_(keep)
        return x * mask / keep

    def extra_repr(self):
        return f"drop_prob={self.drop_prob:.3f}"


class Attention(nn.Module):
    def __init__(self, dim, heads=8, qkv_bias=True, attn_drop=0.0, proj_drop=0.0, use_flash=True):
        super().__init__()
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.attn_p = attn_drop
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(proj_drop)
        self.use_flash = use_flash and HAS_FLASH

    def forward(self, x):
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.heads, C // self.heads)
        if self.use_flash and x.is_cuda:
            q, k, v = qkv.unbind(2)  # (B, N, H, D) layout for flash-attn
            out = flash_attn_func(q, k, v, dropout_p=self.attn_p, softmax_scale=self.scale)  # expect: MG202
            out = out.reshape(B, N, C)
        else:
            q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)
            out = F.scaled_dot_product_attention(
                q, k, v, dropout_p=self.attn_p if self.training else 0.0, scale=self.scale
            )
            out = out.transpose(1, 2).reshape(B, N, C)
        return self.proj_drop(self.proj(out))


class Mlp(nn.Module):
    def __init__(self, dim, hidden, drop=0.0):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)
        self.drop = nn.Dropout(drop)

    def forward(self, x):
        return self.drop(self.fc2(self.drop(self.act(self.fc1(x)))))


class EncoderBlock(nn.Module):
    def __init__(self, dim, heads, mlp_ratio=4.0, drop=0.0, attn_drop=0.0, drop_path=0.0,
                 norm_layer=partial(nn.LayerNorm, eps=1e-6)):
        super().__init__()
        self.norm1 = norm_layer(dim)
        self.attn = Attention(dim, heads, attn_drop=attn_drop, proj_drop=drop)
        self.path1 = StochasticDepth(drop_path)
        self.norm2 = norm_layer(dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio), drop)
        self.path2 = StochasticDepth(drop_path)

    def forward(self, x):
        x = x + self.path1(self.attn(self.norm1(x)))
        return x + self.path2(self.mlp(self.norm2(x)))


def build_encoder(depth=12, dim=768, heads=12, drop_path_rate=0.1, attn_drop=0.05):
    rates = [r.item() for r in torch.linspace(0, drop_path_rate, depth)]
    return nn.Sequential(*[EncoderBlock(dim, heads, drop_path=r, attn_drop=attn_drop) for r in rates])
