"""Speech-translation encoder: conv subsampling followed by a LayerDrop transformer stack."""
import math
import random

import torch
import torch.nn as nn


class Conv2dSubsampling(nn.Module):
    """Two stride-2 convolutions: 4x fewer frames, no normalisation layers."""

    def __init__(self, in_feats, d_model):
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(1, d_model, 3, stride=2), nn.ReLU(),
            nn.Conv2d(d_model, d_model, 3, stride=2), nn.ReLU(),
        )
        reduced = ((in_feats - 1) // 2 - 1) // 2
        self.out = nn.Linear(d_model * reduced, d_model)

    def forward(self, feats, lengths):
        x = self.conv(feats.unsqueeze(1))
        b, c, t, f = x.shape
        x = self.out(x.transpose(1, 2).reshape(b, t, c * f))
        lengths = ((lengths - 1) // 2 - 1) // 2
        return x, lengths


class SinusoidalPositions(nn.Module):
    def __init__(self, d_model, max_len=6000):
        super().__init__()
        pos = torch.arange(max_len).unsqueeze(1)
        div = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
        table = torch.zeros(max_len, d_model)
        table[:, 0::2] = torch.sin(pos * div)
        table[:, 1::2] = torch.cos(pos * div)
        self.register_buffer("table", table, persistent=False)

    def forward(self, x):
        return x + self.table[: x.size(1)]


class LayerDropEncoder(nn.Module):
    def __init__(self, in_feats=80, d_model=256, heads=4, ffn=2048, layers=12,
                 dropout=0.1, layerdrop=0.2):
        super().__init__()
        self.subsample = Conv2dSubsampling(in_feats, d_model)
        self.pos = SinusoidalPositions(d_model)
        self.dropout = nn.Dropout(dropout)
        self.layers = nn.ModuleList([
            nn.TransformerEncoderLayer(d_model, heads, ffn, dropout=dropout,
                                       batch_first=True, norm_first=True)
            for _ in range(layers)
        ])
        self.final_norm = nn.LayerNorm(d_model)
        self.layerdrop = layerdrop

    def forward(self, feats, lengths):
        x, lengths = self.subsample(feats, lengths)
        pad_mask = torch.arange(x.size(1), device=x.device)[None, :] >= lengths[:, None]
        x = self.dropout(self.pos(x * math.sqrt(x.size(-1))))

        # every layer has to run when we decode
        if not self.training:
            self.layerdrop = 0.0  # expect: MG203

        for layer in self.layers:
            if self.layerdrop > 0.0 and random.random() < self.layerdrop:
                continue
            x = layer(x, src_key_padding_mask=pad_mask)
        return self.final_norm(x), pad_mask


def build_encoder(args):
    return LayerDropEncoder(in_feats=args.n_mels, d_model=args.encoder_dim,
                            heads=args.encoder_heads, ffn=args.encoder_ffn,
                            layers=args.encoder_layers, dropout=args.dropout,
                            layerdrop=args.encoder_layerdrop)
