"""Building blocks for a Swin-style hierarchical backbone (detection/segmentation)."""
import torch
import torch.nn as nn
import torch.nn.functional as F

try:
    from flash_attn import flash_attn_func
except ImportError:  # pragma: no cover
    flash_attn_func = None


def drop_path(x, prob: float, training: bool):
    if prob == 0.0 or not training:
        return x
    keep = 1.0 - prob
    mask = x.new_empty((x.shape[0],) + (1,) * (x.ndim - 1)).bernoulli_(keep)
    return x * mask / keep


class DropPath(nn.Module):
    def __init__(self, prob=0.0):
        super().__init__()
        self.prob = prob

    def forward(self, x):
        return drop_path(x, self.prob, self.training)


class WindowAttention(nn.Module):
    def __init__(self, dim, window, heads, attn_drop=0.0, proj_drop=0.0, use_flash=False):
        super().__init__()
        self.heads, self.window = heads, window
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)
        self.attn_p = attn_drop
        self.proj_p = proj_drop
        self.use_flash = use_flash and flash_attn_func is not None
        n = window * window
        self.rel_bias = nn.Parameter(torch.zeros(heads, n, n))

    def forward(self, x, mask=None):
        B, N, C = x.shape
        qkv = self.qkv(x).view(B, N, 3, self.heads, C // self.heads)
        p = self.attn_p if self.training else 0.0
        if self.use_flash and mask is None:
            q, k, v = qkv.unbind(2)
            out = flash_attn_func(q.half(), k.half(), v.half(), dropout_p=p).to(x.dtype)
            out = out.reshape(B, N, C)
        else:
            q, k, v = qkv.permute(2, 0, 3, 1, 4)
            bias = self.rel_bias.unsqueeze(0)
            if mask is not None:
                bias = bias + mask.unsqueeze(1)
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=bias.to(q.dtype), dropout_p=p)
            out = out.transpose(1, 2).reshape(B, N, C)
        return F.dropout(self.proj(out), self.proj_p, training=self.training)


class Mlp(nn.Module):
    def __init__(self, dim, ratio=4.0, drop=0.0):
        super().__init__()
        self.fc1 = nn.Linear(dim, int(dim * ratio))
        self.fc2 = nn.Linear(int(dim * ratio), dim)
        self.drop = drop

    def forward(self, x):
        x = F.dropout(F.gelu(self.fc1(x)), p=self.drop, training=self.training)
        return F.dropout(self.fc2(x), p=self.drop, training=self.training)


class SwinBlock(nn.Module):
    def __init__(self, dim, heads, window=7, shift=0, drop_path_p=0.0, drop=0.0, attn_drop=0.0):
        super().__init__()
        self.window, self.shift = window, shift
        self.norm1 = nn.LayerNorm(dim)
        self.attn = WindowAttention(dim, window, heads, attn_drop, drop)
        self.drop_path = DropPath(drop_path_p)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, drop=drop)

    def _partition(self, x, H, W):
        B, _, C = x.shape
        x = x.view(B, H // self.window, self.window, W // self.window, self.window, C)
        return x.permute(0, 1, 3, 2, 4, 5).reshape(-1, self.window * self.window, C)

    def _reverse(self, w, H, W, B):
        C = w.shape[-1]
        x = w.view(B, H // self.window, W // self.window, self.window, self.window, C)
        return x.permute(0, 1, 3, 2, 4, 5).reshape(B, H * W, C)

    def forward(self, x, H, W, attn_mask=None):
        B = x.shape[0]
        h = self.norm1(x)
        if self.shift:
            h = torch.roll(h.view(B, H, W, -1), (-self.shift, -self.shift), (1, 2)).view(B, H * W, -1)
        h = self._reverse(self.attn(self._partition(h, H, W), attn_mask), H, W, B)
        if self.shift:
            h = torch.roll(h.view(B, H, W, -1), (self.shift, self.shift), (1, 2)).view(B, H * W, -1)
        x = x + self.drop_path(h)
        return x + self.drop_path(self.mlp(self.norm2(x)))
