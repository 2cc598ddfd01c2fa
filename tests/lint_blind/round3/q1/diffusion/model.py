"""Class-conditional UNet for pixel-space DDPM (CIFAR/ImageNet-64 scale)."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def timestep_embedding(t, dim, max_period=10000):
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, device=t.device) / half)
    args = t.float()[:, None] * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


class ResBlock(nn.Module):
    def __init__(self, cin, cout, emb_dim, dropout=0.1):
        super().__init__()
        self.norm1 = nn.GroupNorm(32, cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.emb = nn.Linear(emb_dim, cout * 2)
        self.norm2 = nn.GroupNorm(32, cout)
        self.drop = nn.Dropout(dropout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        nn.init.zeros_(self.conv2.weight)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x, emb):
        h = self.conv1(F.silu(self.norm1(x)))
        scale, shift = self.emb(F.silu(emb))[:, :, None, None].chunk(2, dim=1)
        h = self.norm2(h) * (1 + scale) + shift
        h = self.conv2(self.drop(F.silu(h)))
        return self.skip(x) + h


class SelfAttention2d(nn.Module):
    def __init__(self, ch, heads=4):
        super().__init__()
        self.heads = heads
        self.norm = nn.GroupNorm(32, ch)
        self.qkv = nn.Conv2d(ch, ch * 3, 1)
        self.out = nn.Conv2d(ch, ch, 1)

    def forward(self, x):
        B, C, H, W = x.shape
        q, k, v = self.qkv(self.norm(x)).reshape(B, 3, self.heads, C // self.heads, H * W).unbind(1)
        o = F.scaled_dot_product_attention(q.transpose(-1, -2), k.transpose(-1, -2), v.transpose(-1, -2))
        return x + self.out(o.transpose(-1, -2).reshape(B, C, H, W))


class UNet(nn.Module):
    def __init__(self, num_classes=10, ch=128, mults=(1, 2, 2, 2), attn_res=(16,), img=32,
                 dropout=0.1, p_uncond=0.1):
        super().__init__()
        emb_dim = ch * 4
        self.ch = ch
        self.num_classes = num_classes
        self.p_uncond = p_uncond
        self.time_mlp = nn.Sequential(nn.Linear(ch, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim))
        # index `num_classes` is the learned "null" label used for classifier-free guidance
        self.label_emb = nn.Embedding(num_classes + 1, emb_dim)
        self.inp = nn.Conv2d(3, ch, 3, padding=1)
        self.downs, self.ups = nn.ModuleList(), nn.ModuleList()
        chans, cur, res = [ch], ch, img
        for i, m in enumerate(mults):
            for _ in range(2):
                self.downs.append(nn.ModuleList([ResBlock(cur, ch * m, emb_dim, dropout),
                                                 SelfAttention2d(ch * m) if res in attn_res else nn.Identity()]))
                cur = ch * m
                chans.append(cur)
            if i != len(mults) - 1:
                self.downs.append(nn.ModuleList([nn.Conv2d(cur, cur, 3, stride=2, padding=1)]))
                chans.append(cur)
                res //= 2
        self.mid = nn.ModuleList([ResBlock(cur, cur, emb_dim, dropout), SelfAttention2d(cur),
                                  ResBlock(cur, cur, emb_dim, dropout)])
        for i, m in reversed(list(enumerate(mults))):
            for _ in range(3):
                self.ups.append(nn.ModuleList([ResBlock(cur + chans.pop(), ch * m, emb_dim, dropout),
                                               SelfAttention2d(ch * m) if res in attn_res else nn.Identity()]))
                cur = ch * m
            if i != 0:
                self.ups.append(nn.ModuleList([nn.Upsample(scale_factor=2, mode="nearest"),
                                               nn.Conv2d(cur, cur, 3, padding=1)]))
                res *= 2
        self.out = nn.Sequential(nn.GroupNorm(32, cur), nn.SiLU(), nn.Conv2d(cur, 3, 3, padding=1))

    def forward(self, x, t, y):
        if self.training and self.p_uncond > 0:
            # condition dropout for CFG: replace labels by the null label at random
            drop = torch.rand(y.shape[0], device=y.device) < self.p_uncond
            y = torch.where(drop, torch.full_like(y, self.num_classes), y)
        emb = self.time_mlp(timestep_embedding(t, self.ch)) + self.label_emb(y)
        h = self.inp(x)
        hs = [h]
        for layer in self.downs:
            if len(layer) == 1:
                h = layer[0](h)
            else:
                h = layer[1](layer[0](h, emb))
            hs.append(h)
        h = self.mid[2](self.mid[1](self.mid[0](h, emb)), emb)
        for layer in self.ups:
            if isinstance(layer[0], nn.Upsample):
                h = layer[1](layer[0](h))
            else:
                h = layer[1](layer[0](torch.cat([h, hs.pop()], dim=1), emb))
        return self.out(h)
