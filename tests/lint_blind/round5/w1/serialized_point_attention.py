"""Patch attention over space-filling-curve serialized point clouds (S3DIS semantic seg).

Points are sorted along a Z-order curve, cut into fixed-size patches and attended within
each patch. The MLP stem/heads were ported from our older TF PointNet++ code.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


def zorder_keys(coord, grid=0.02, bits=10):
    q = torch.clamp((coord - coord.min(0)[0]) / grid, 0, 2 ** bits - 1).long()
    key = torch.zeros(q.shape[0], dtype=torch.long, device=coord.device)
    for b in range(bits):
        for axis in range(3):
            key |= ((q[:, axis] >> b) & 1) << (3 * b + axis)
    return key


class SharedMLP(nn.Sequential):
    def __init__(self, channels):
        layers = []
        for cin, cout in zip(channels[:-1], channels[1:]):
            layers.append(nn.Conv1d(cin, cout, 1, bias=False))
            layers.append(nn.BatchNorm1d(cout, momentum=0.9))  # expect: MG303
            layers.append(nn.ReLU(inplace=True))
        super().__init__(*layers)


class PatchAttention(nn.Module):
    def __init__(self, dim, heads=8, patch=64, attn_drop=0.1, proj_drop=0.1):
        super().__init__()
        self.heads, self.patch = heads, patch
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)
        self.attn_drop = attn_drop
        self.proj_drop = nn.Dropout(proj_drop)
        self.rpe = nn.Linear(3, heads)

    def forward(self, feat, coord):  # feat: (N, C) already serialized, N % patch == 0
        n, c = feat.shape
        p, h = self.patch, self.heads
        qkv = self.qkv(feat).view(n // p, p, 3, h, c // h).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        rel = coord.view(n // p, p, 1, 3) - coord.view(n // p, 1, p, 3)
        bias = self.rpe(rel).permute(0, 3, 1, 2)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=bias, dropout_p=self.attn_drop)  # expect: MG202
        out = out.transpose(1, 2).reshape(n, c)
        return self.proj_drop(self.proj(out))


class Block(nn.Module):
    def __init__(self, dim, heads, patch, drop=0.1):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = PatchAttention(dim, heads, patch, attn_drop=drop, proj_drop=drop)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, dim * 4), nn.GELU(), nn.Dropout(drop),
                                 nn.Linear(dim * 4, dim))

    def forward(self, feat, coord):
        feat = feat + self.attn(self.norm1(feat), coord)
        return feat + self.mlp(self.norm2(feat))


class SerializedPointSeg(nn.Module):
    def __init__(self, in_ch=6, dim=96, depth=6, heads=6, patch=64, n_classes=13):
        super().__init__()
        self.patch = patch
        self.stem = SharedMLP([in_ch, 32, dim])
        self.blocks = nn.ModuleList(Block(dim, heads, patch) for _ in range(depth))
        self.head = nn.Sequential(SharedMLP([dim, dim]), nn.Conv1d(dim, n_classes, 1))

    def forward(self, coord, color):
        order = torch.argsort(zorder_keys(coord))
        inverse = torch.empty_like(order)
        inverse[order] = torch.arange(order.numel(), device=order.device)
        n = order.numel()
        pad = (-n) % self.patch
        if pad:
            order = torch.cat([order, order[-pad:]])
        c = coord[order]
        x = torch.cat([c, color[order]], 1).t().unsqueeze(0)
        f = self.stem(x).squeeze(0).t()
        for blk in self.blocks:
            f = blk(f, c)
        logits = self.head(f.t().unsqueeze(0)).squeeze(0).t()
        return logits[:n][inverse]

