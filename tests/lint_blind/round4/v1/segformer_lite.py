"""Lightweight hierarchical transformer encoder + all-MLP decoder for semantic segmentation."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class OverlapPatchEmbed(nn.Module):
    def __init__(self, cin, dim, k, stride):
        super().__init__()
        self.proj = nn.Conv2d(cin, dim, k, stride, k // 2)
        self.norm = nn.LayerNorm(dim)

    def forward(self, x):
        x = self.proj(x)
        h, w = x.shape[-2:]
        return self.norm(x.flatten(2).transpose(1, 2)), h, w


class ReducedAttention(nn.Module):
    """Self-attention whose keys/values come from a spatially reduced map."""

    def __init__(self, dim, heads, sr_ratio, attn_drop=0.0, proj_drop=0.0):
        super().__init__()
        self.heads = heads
        self.q = nn.Linear(dim, dim)
        self.kv = nn.Linear(dim, dim * 2)
        self.attn_drop = attn_drop
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = proj_drop
        self.sr_ratio = sr_ratio
        if sr_ratio > 1:
            self.sr = nn.Conv2d(dim, dim, sr_ratio, sr_ratio)
            self.sr_norm = nn.LayerNorm(dim)

    def forward(self, x, h, w):
        b, n, c = x.shape
        q = self.q(x).view(b, n, self.heads, -1).transpose(1, 2)
        if self.sr_ratio > 1:
            y = x.transpose(1, 2).reshape(b, c, h, w)
            y = self.sr_norm(self.sr(y).flatten(2).transpose(1, 2))
        else:
            y = x
        k, v = self.kv(y).view(b, -1, 2, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        out = F.scaled_dot_product_attention(
            q, k, v, dropout_p=self.attn_drop if self.training else 0.0)
        out = self.proj(out.transpose(1, 2).reshape(b, n, c))
        return F.dropout(out, p=self.proj_drop, training=self.training)


class MixFFN(nn.Module):
    def __init__(self, dim, hidden, drop=0.0):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.dw = nn.Conv2d(hidden, hidden, 3, 1, 1, groups=hidden)
        self.fc2 = nn.Linear(hidden, dim)
        self.drop = drop

    def forward(self, x, h, w):
        x = self.fc1(x)
        b, n, c = x.shape
        x = self.dw(x.transpose(1, 2).view(b, c, h, w)).flatten(2).transpose(1, 2)
        x = F.dropout(F.gelu(x), self.drop, self.training)
        return self.fc2(x)


def drop_path(x, p, training):
    if p == 0.0 or not training:
        return x
    mask = x.new_empty(x.shape[0], 1, 1).bernoulli_(1 - p)
    return x * mask / (1 - p)


class Block(nn.Module):
    def __init__(self, dim, heads, sr, mlp_ratio=4, dp=0.0):
        super().__init__()
        self.n1, self.n2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.attn = ReducedAttention(dim, heads, sr)
        self.ffn = MixFFN(dim, dim * mlp_ratio)
        self.dp = dp

    def forward(self, x, h, w):
        x = x + drop_path(self.attn(self.n1(x), h, w), self.dp, self.training)
        return x + drop_path(self.ffn(self.n2(x), h, w), self.dp, self.training)


class SegFormerLite(nn.Module):
    def __init__(self, n_cls=19, dims=(32, 64, 160, 256), heads=(1, 2, 5, 8), srs=(8, 4, 2, 1),
                 depths=(2, 2, 2, 2), drop_path_rate=0.1, dec_dim=256):
        super().__init__()
        rates = torch.linspace(0, drop_path_rate, sum(depths)).tolist()
        self.embeds, self.stages, self.norms = nn.ModuleList(), nn.ModuleList(), nn.ModuleList()
        cin, k = 3, 0
        for i, d in enumerate(dims):
            self.embeds.append(OverlapPatchEmbed(cin, d, 7 if i == 0 else 3, 4 if i == 0 else 2))
            self.stages.append(nn.ModuleList(Block(d, heads[i], srs[i], dp=rates[k + j])
                                             for j in range(depths[i])))
            self.norms.append(nn.LayerNorm(d))
            cin, k = d, k + depths[i]
        self.lin = nn.ModuleList(nn.Linear(d, dec_dim) for d in dims)
        self.fuse = nn.Sequential(nn.Conv2d(4 * dec_dim, dec_dim, 1, bias=False),
                                  nn.BatchNorm2d(dec_dim, momentum=0.01), nn.ReLU(inplace=True))
        self.cls = nn.Conv2d(dec_dim, n_cls, 1)
        self.dec_drop = nn.Dropout2d(0.1)

    def forward(self, img):
        feats, x = [], img
        for embed, blocks, norm in zip(self.embeds, self.stages, self.norms):
            x, h, w = embed(x)
            for blk in blocks:
                x = blk(x, h, w)
            x = norm(x).transpose(1, 2).reshape(x.shape[0], -1, h, w)
            feats.append(x)
        size = feats[0].shape[-2:]
        ups = [F.interpolate(lin(f.flatten(2).transpose(1, 2)).transpose(1, 2)
                             .reshape(f.shape[0], -1, *f.shape[-2:]), size=size,
                             mode="bilinear", align_corners=False)
               for lin, f in zip(self.lin, feats)]
        out = self.cls(self.dec_drop(self.fuse(torch.cat(ups[::-1], 1))))
        return F.interpolate(out, size=img.shape[-2:], mode="bilinear", align_corners=False)
