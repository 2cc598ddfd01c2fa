# Divided space-time video transformer (TimeSformer-style) with FlashAttention kernels.
# Input: (B, C, T, H, W) clips, 16x224x224, tubelet 2x16x16.
import math

import torch
import torch.nn as nn
from einops import rearrange
from flash_attn import flash_attn_func


class DropPath(nn.Module):
    def __init__(self, drop_prob=0.0):
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


class FlashMHSA(nn.Module):
    def __init__(self, dim, heads, attn_p=0.0, proj_p=0.0):
        super().__init__()
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        self.qkv = nn.Linear(dim, 3 * dim, bias=True)
        self.proj = nn.Linear(dim, dim)
        self.attn_p = attn_p
        self.proj_drop = nn.Dropout(proj_p)

    def forward(self, x):
        b, n, c = x.shape
        qkv = self.qkv(x).view(b, n, 3, self.heads, c // self.heads)
        q, k, v = qkv.to(torch.bfloat16).unbind(dim=2)
        o = flash_attn_func(q, k, v, dropout_p=self.attn_p, softmax_scale=self.scale, causal=False)  # expect: MG202
        o = o.reshape(b, n, c).to(x.dtype)
        return self.proj_drop(self.proj(o))


class DividedBlock(nn.Module):
    def __init__(self, dim, heads, mlp_ratio=4.0, drop=0.0, attn_drop=0.0, dpr=0.0):
        super().__init__()
        self.norm_t = nn.LayerNorm(dim)
        self.attn_t = FlashMHSA(dim, heads, attn_drop, drop)
        self.norm_s = nn.LayerNorm(dim)
        self.attn_s = FlashMHSA(dim, heads, attn_drop, drop)
        self.norm_m = nn.LayerNorm(dim)
        hidden = int(dim * mlp_ratio)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Dropout(drop),
                                 nn.Linear(hidden, dim), nn.Dropout(drop))
        self.drop_path = DropPath(dpr)

    def forward(self, x, t, s):
        xt = rearrange(x, "b (t s) c -> (b s) t c", t=t, s=s)
        xt = xt + self.drop_path(self.attn_t(self.norm_t(xt)))
        xs = rearrange(xt, "(b s) t c -> (b t) s c", s=s)
        xs = xs + self.drop_path(self.attn_s(self.norm_s(xs)))
        x = rearrange(xs, "(b t) s c -> b (t s) c", t=t)
        return x + self.drop_path(self.mlp(self.norm_m(x)))


class VideoViT(nn.Module):
    def __init__(self, num_classes=400, frames=16, img=224, tubelet=2, patch=16,
                 dim=768, depth=12, heads=12, drop_path_rate=0.1, attn_drop=0.1, drop=0.0):
        super().__init__()
        self.t = frames // tubelet
        self.s = (img // patch) ** 2
        self.embed = nn.Conv3d(3, dim, (tubelet, patch, patch), (tubelet, patch, patch))
        self.pos_s = nn.Parameter(torch.zeros(1, self.s, dim))
        self.pos_t = nn.Parameter(torch.zeros(1, self.t, dim))
        dprs = torch.linspace(0, drop_path_rate, depth).tolist()
        self.blocks = nn.ModuleList(
            DividedBlock(dim, heads, drop=drop, attn_drop=attn_drop, dpr=r) for r in dprs
        )
        self.norm = nn.LayerNorm(dim)
        self.fc_dropout = nn.Dropout(0.5)
        self.head = nn.Linear(dim, num_classes)
        nn.init.trunc_normal_(self.pos_s, std=0.02)
        nn.init.trunc_normal_(self.pos_t, std=0.02)

    def forward(self, clip):
        x = self.embed(clip)  # (B, C, t, h, w)
        x = rearrange(x, "b c t h w -> b t (h w) c")
        x = x + self.pos_s[:, None] + self.pos_t[:, :, None]
        x = x.flatten(1, 2)
        for blk in self.blocks:
            x = blk(x, self.t, self.s)
        x = self.norm(x).mean(1)
        return self.head(self.fc_dropout(x))


def build_video_vit(cfg):
    return VideoViT(num_classes=cfg.get("num_classes", 400),
                    drop_path_rate=cfg.get("drop_path", 0.1),
                    attn_drop=cfg.get("attn_drop", 0.1))
