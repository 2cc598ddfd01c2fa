"""Divided space-time video transformer (TimeSformer-style) for clip classification."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from einops import rearrange


def drop_path(x, p: float, training: bool):
    if p == 0.0 or not training:
        return x
    keep = 1.0 - p
    mask = x.new_empty((x.shape[0],) + (1,) * (x.ndim - 1)).bernoulli_(keep)
    return x * mask / keep


class TubeletEmbed(nn.Module):
    def __init__(self, dim=768, patch=16, tubelet=2, in_ch=3):
        super().__init__()
        self.proj = nn.Conv3d(in_ch, dim, (tubelet, patch, patch), stride=(tubelet, patch, patch))

    def forward(self, video):  # (B, C, T, H, W)
        x = self.proj(video)
        return x  # (B, D, T', H', W')


class TemporalAttention(nn.Module):
    def __init__(self, dim, heads, attn_p=0.0):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, dim * 3)
        self.out = nn.Linear(dim, dim)
        self.attn_p = attn_p

    def forward(self, x, T):  # x: (B, T*N, D)
        B = x.shape[0]
        x = rearrange(x, "b (t n) d -> (b n) t d", t=T)
        q, k, v = rearrange(self.qkv(x), "b t (three h d) -> three b h t d", three=3, h=self.heads)
        o = F.scaled_dot_product_attention(q, k, v, dropout_p=self.attn_p if self.training else 0.0)
        o = self.out(rearrange(o, "b h t d -> b t (h d)"))
        return rearrange(o, "(b n) t d -> b (t n) d", b=B)


class SpatialAttention(nn.Module):
    def __init__(self, dim, heads, attn_drop=0.0, proj_drop=0.0):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, dim * 3, bias=True)
        self.proj = nn.Linear(dim, dim)
        self.attn_drop = attn_drop
        self.proj_drop = nn.Dropout(proj_drop)

    def forward(self, x, T):  # x: (B, T*N, D), attention within each frame
        x = rearrange(x, "b (t n) d -> (b t) n d", t=T)
        q, k, v = rearrange(self.qkv(x), "b n (three h d) -> three b h n d", three=3, h=self.heads)
        o = F.scaled_dot_product_attention(  # expect: MG202
            q, k, v, dropout_p=self.attn_drop,
        )
        o = self.proj_drop(self.proj(rearrange(o, "b h n d -> b n (h d)")))
        return rearrange(o, "(b t) n d -> b (t n) d", t=T)


class DividedBlock(nn.Module):
    def __init__(self, dim, heads, mlp_ratio=4.0, attn_p=0.0, drop=0.0, drop_path_p=0.0):
        super().__init__()
        self.norm_t = nn.LayerNorm(dim)
        self.attn_t = TemporalAttention(dim, heads, attn_p)
        self.norm_s = nn.LayerNorm(dim)
        self.attn_s = SpatialAttention(dim, heads, attn_p, drop)
        self.norm_mlp = nn.LayerNorm(dim)
        hidden = int(dim * mlp_ratio)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Dropout(drop),
                                 nn.Linear(hidden, dim), nn.Dropout(drop))
        self.drop_path_p = drop_path_p

    def forward(self, x, T):
        x = x + drop_path(self.attn_t(self.norm_t(x), T), self.drop_path_p, self.training)
        x = x + drop_path(self.attn_s(self.norm_s(x), T), self.drop_path_p, self.training)
        x = x + drop_path(self.mlp(self.norm_mlp(x)), self.drop_path_p, self.training)
        return x


class VideoTransformer(nn.Module):
    def __init__(self, num_classes=400, dim=768, depth=12, heads=12, frames=16, img=224,
                 patch=16, tubelet=2, attn_p=0.1, drop=0.0, drop_path_rate=0.1, head_drop=0.5):
        super().__init__()
        self.embed = TubeletEmbed(dim, patch, tubelet)
        self.T = frames // tubelet
        n = (img // patch) ** 2
        self.pos = nn.Parameter(torch.zeros(1, self.T * n, dim))
        nn.init.trunc_normal_(self.pos, std=0.02)
        rates = torch.linspace(0, drop_path_rate, depth).tolist()
        self.blocks = nn.ModuleList([DividedBlock(dim, heads, 4.0, attn_p, drop, r) for r in rates])
        self.norm = nn.LayerNorm(dim)
        self.head_drop = nn.Dropout(head_drop)
        self.head = nn.Linear(dim, num_classes)

    def forward(self, video):
        x = self.embed(video)
        x = rearrange(x, "b d t h w -> b (t h w) d") + self.pos
        for blk in self.blocks:
            x = blk(x, self.T)
        x = self.norm(x).mean(1)
        return self.head(self.head_drop(x))
