"""A compact Vision Transformer for 32x32 / 64x64 inputs (CIFAR, Tiny-ImageNet)."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class DropPath(nn.Module):
    def __init__(self, prob=0.0):
        super().__init__()
        self.prob = prob

    def forward(self, x):
        if self.prob == 0.0 or not self.training:
            return x
        keep = 1.0 - self.prob
        mask = x.new_empty((x.shape[0],) + (1,) * (x.ndim - 1)).bernoulli_(keep)
        return x * mask / keep


class SelfAttention(nn.Module):
    def __init__(self, dim, heads=3, attn_drop=0.0, proj_drop=0.0, qk_norm=True):
        super().__init__()
        self.heads = heads
        self.head_dim = dim // heads
        self.qkv = nn.Linear(dim, dim * 3)
        self.q_norm = nn.LayerNorm(self.head_dim) if qk_norm else nn.Identity()
        self.k_norm = nn.LayerNorm(self.head_dim) if qk_norm else nn.Identity()
        self.attn_drop = attn_drop
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(proj_drop)

    def forward(self, x):
        b, n, c = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        q, k = self.q_norm(q), self.k_norm(k)
        x = F.scaled_dot_product_attention(q, k, v, dropout_p=self.attn_drop)  # expect: MG202
        x = x.transpose(1, 2).reshape(b, n, c)
        return self.proj_drop(self.proj(x))


class FeedForward(nn.Module):
    def __init__(self, dim, ratio=4.0, drop=0.0):
        super().__init__()
        self.fc1 = nn.Linear(dim, int(dim * ratio))
        self.fc2 = nn.Linear(int(dim * ratio), dim)
        self.drop = drop

    def forward(self, x):
        x = F.gelu(self.fc1(x))
        x = F.dropout(x, self.drop, self.training)
        return F.dropout(self.fc2(x), p=self.drop, training=self.training)


class Block(nn.Module):
    def __init__(self, dim, heads, drop=0.0, attn_drop=0.0, drop_path=0.0):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = SelfAttention(dim, heads, attn_drop=attn_drop, proj_drop=drop)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = FeedForward(dim, drop=drop)
        self.drop_path = DropPath(drop_path)

    def forward(self, x):
        x = x + self.drop_path(self.attn(self.norm1(x)))
        return x + self.drop_path(self.mlp(self.norm2(x)))


class TinyViT(nn.Module):
    def __init__(self, img_size=32, patch=4, num_classes=100, dim=192, depth=9, heads=3,
                 drop=0.1, attn_drop=0.1, drop_path=0.1, token_drop=0.25):
        super().__init__()
        self.patch_embed = nn.Conv2d(3, dim, patch, patch)
        n_tokens = (img_size // patch) ** 2
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.randn(1, n_tokens + 1, dim) * 0.02)
        rates = torch.linspace(0, drop_path, depth).tolist()
        self.blocks = nn.ModuleList(Block(dim, heads, drop, attn_drop, r) for r in rates)
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, num_classes)
        self.token_drop = token_drop

    def _drop_tokens(self, x):
        if self.token_drop <= 0.0:
            return x
        keep = max(1, int(math.ceil((x.shape[1] - 1) * (1 - self.token_drop))))
        idx = torch.rand(x.shape[0], x.shape[1] - 1, device=x.device).argsort(1)[:, :keep] + 1
        idx = torch.cat([idx.new_zeros(x.shape[0], 1), idx], 1)
        return torch.gather(x, 1, idx[..., None].expand(-1, -1, x.shape[-1]))

    def forward(self, images):
        if not self.training:
            self.token_drop = 0.0  # expect: MG203
        x = self.patch_embed(images).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], 1) + self.pos_embed
        x = self._drop_tokens(x)
        for blk in self.blocks:
            x = blk(x)
        return self.head(self.norm(x)[:, 0])


if __name__ == "__main__":
    net = TinyViT()
    print(sum(p.numel() for p in net.parameters()) / 1e6, "M parameters")
    net.eval()
    with torch.no_grad():
        print(net(torch.randn(2, 3, 32, 32)).shape)
