"""ViT-S/16 with FlashAttention-2 kernels, used for our MAE fine-tuning runs.

Weights are compatible with timm's vit_small_patch16_224 after `remap_timm_keys`.
"""
import math

import torch
import torch.nn as nn
from einops import rearrange
from flash_attn import flash_attn_func


class StochasticDepth(nn.Module):
    def __init__(self, drop_prob=0.0):
        super().__init__()
        self.drop_prob = drop_prob

    def forward(self, x):
        if not self.training:
            self.drop_prob = 0.0  # expect: MG203
        if self.drop_prob == 0.0:
            return x
        keep = 1.0 - self.drop_prob
        mask = x.new_empty((x.shape[0],) + (1,) * (x.ndim - 1)).bernoulli_(keep)
        return x * mask / keep

    def extra_repr(self):
        return f"drop_prob={self.drop_prob:.3f}"


class FlashMHSA(nn.Module):
    def __init__(self, dim, heads=6, attn_drop=0.0, proj_drop=0.0):
        super().__init__()
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        self.qkv = nn.Linear(dim, dim * 3)
        self.attn_drop_rate = attn_drop
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(proj_drop)

    def forward(self, x):
        qkv = rearrange(self.qkv(x), "b n (three h d) -> three b n h d", three=3, h=self.heads)
        q, k, v = qkv[0].half(), qkv[1].half(), qkv[2].half()
        out = flash_attn_func(q, k, v, dropout_p=self.attn_drop_rate, softmax_scale=self.scale, causal=False)  # expect: MG202
        out = rearrange(out.to(x.dtype), "b n h d -> b n (h d)")
        return self.proj_drop(self.proj(out))


class Block(nn.Module):
    def __init__(self, dim, heads, mlp_ratio=4.0, drop=0.0, attn_drop=0.0, drop_path=0.0):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = FlashMHSA(dim, heads, attn_drop, drop)
        self.dp1 = StochasticDepth(drop_path)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        hidden = int(dim * mlp_ratio)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Dropout(drop),
                                 nn.Linear(hidden, dim), nn.Dropout(drop))
        self.dp2 = StochasticDepth(drop_path)

    def forward(self, x):
        x = x + self.dp1(self.attn(self.norm1(x)))
        return x + self.dp2(self.mlp(self.norm2(x)))


class VisionTransformer(nn.Module):
    def __init__(self, img_size=224, patch=16, num_classes=1000, dim=384, depth=12, heads=6,
                 drop=0.0, attn_drop=0.1, drop_path_rate=0.1, global_pool=True):
        super().__init__()
        self.patch_embed = nn.Conv2d(3, dim, kernel_size=patch, stride=patch)
        n_patches = (img_size // patch) ** 2
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, n_patches + 1, dim))
        self.pos_drop = nn.Dropout(drop)
        rates = [r.item() for r in torch.linspace(0, drop_path_rate, depth)]
        self.blocks = nn.ModuleList([Block(dim, heads, drop=drop, attn_drop=attn_drop, drop_path=r)
                                     for r in rates])
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.global_pool = global_pool
        self.head = nn.Linear(dim, num_classes)
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        nn.init.trunc_normal_(self.cls_token, std=0.02)

    def forward_features(self, x):
        x = self.patch_embed(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1)
        x = self.pos_drop(x + self.pos_embed)
        for blk in self.blocks:
            x = blk(x)
        x = self.norm(x)
        return x[:, 1:].mean(1) if self.global_pool else x[:, 0]

    def forward(self, x):
        return self.head(self.forward_features(x))


def remap_timm_keys(state):
    out = {}
    for k, v in state.items():
        if k.startswith("fc_norm."):
            continue
        out[k.replace("patch_embed.proj.", "patch_embed.")] = v
    return out


def vit_small_flash(num_classes=1000, **kw):
    return VisionTransformer(num_classes=num_classes, dim=384, depth=12, heads=6, **kw)


if __name__ == "__main__":
    net = vit_small_flash(num_classes=10)
    print(sum(p.numel() for p in net.parameters()) / 1e6, "M params",
          f"(head dim {384 // 6}, {math.ceil(224 / 16) ** 2} patches)")
