"""Conformer encoder used by our streaming ASR recipe.

Macaron feed-forward, relative-position-free MHSA, depthwise conv module and
LayerDrop over whole blocks (Fan et al., 2019).
"""
import random
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F


class Swish(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(x)


class FeedForward(nn.Module):
    def __init__(self, dim, mult=4, p=0.1):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.w1 = nn.Linear(dim, dim * mult)
        self.w2 = nn.Linear(dim * mult, dim)
        self.act = Swish()
        self.p = p

    def forward(self, x):
        h = self.act(self.w1(self.norm(x)))
        h = F.dropout(h, p=self.p, training=self.training)
        return F.dropout(self.w2(h), p=self.p, training=self.training)


class ConvModule(nn.Module):
    def __init__(self, dim, kernel_size=31, p=0.1):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.pw1 = nn.Conv1d(dim, 2 * dim, 1)
        self.dw = nn.Conv1d(dim, dim, kernel_size, padding=kernel_size // 2, groups=dim)
        self.bn = nn.BatchNorm1d(dim)
        self.pw2 = nn.Conv1d(dim, dim, 1)
        self.act = Swish()
        self.p = p

    def forward(self, x):
        # x: (B, T, D)
        h = self.norm(x).transpose(1, 2)
        h = F.glu(self.pw1(h), dim=1)
        h = self.act(self.bn(self.dw(h)))
        h = self.pw2(h).transpose(1, 2)
        return F.dropout(h, self.p)  # expect: MG201


class ConformerBlock(nn.Module):
    def __init__(self, dim, heads=4, p=0.1, kernel_size=31):
        super().__init__()
        self.ff1 = FeedForward(dim, p=p)
        self.attn_norm = nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, heads, dropout=p, batch_first=True)
        self.attn_drop = nn.Dropout(p)
        self.conv = ConvModule(dim, kernel_size, p)
        self.ff2 = FeedForward(dim, p=p)
        self.out_norm = nn.LayerNorm(dim)

    def forward(self, x, pad_mask: Optional[torch.Tensor] = None):
        x = x + 0.5 * self.ff1(x)
        q = self.attn_norm(x)
        a, _ = self.attn(q, q, q, key_padding_mask=pad_mask, need_weights=False)
        x = x + self.attn_drop(a)
        x = x + self.conv(x)
        x = x + 0.5 * self.ff2(x)
        return self.out_norm(x)


class ConvSubsample(nn.Module):
    """4x time reduction with two strided 2-D convolutions."""

    def __init__(self, n_mels, dim):
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(1, dim, 3, stride=2), nn.ReLU(),
            nn.Conv2d(dim, dim, 3, stride=2), nn.ReLU(),
        )
        freq = ((n_mels - 1) // 2 - 1) // 2
        self.out = nn.Linear(dim * freq, dim)

    def forward(self, feats, lens):
        h = self.conv(feats.unsqueeze(1))
        b, c, t, f = h.shape
        h = self.out(h.transpose(1, 2).reshape(b, t, c * f))
        return h, ((lens - 1) // 2 - 1) // 2


class ConformerEncoder(nn.Module):
    def __init__(self, n_mels=80, dim=256, layers=12, heads=4, p=0.1, layerdrop=0.1):
        super().__init__()
        self.subsample = ConvSubsample(n_mels, dim)
        self.in_drop = nn.Dropout(p)
        self.layers = nn.ModuleList([ConformerBlock(dim, heads, p) for _ in range(layers)])
        self.layerdrop = layerdrop

    def forward(self, feats, lens):
        x, lens = self.subsample(feats, lens)
        x = self.in_drop(x)
        pad = torch.arange(x.size(1), device=x.device)[None] >= lens[:, None]
        if not self.training:
            # deterministic at decode time
            self.layerdrop = 0.0  # expect: MG203
        for layer in self.layers:
            if self.training and random.random() < self.layerdrop:
                continue
            x = layer(x, pad)
        return x, lens


class CTCHead(nn.Module):
    def __init__(self, encoder: ConformerEncoder, dim, vocab):
        super().__init__()
        self.encoder = encoder
        self.fc = nn.Linear(dim, vocab)

    def forward(self, feats, lens):
        h, out_lens = self.encoder(feats, lens)
        return self.fc(h).log_softmax(-1), out_lens
