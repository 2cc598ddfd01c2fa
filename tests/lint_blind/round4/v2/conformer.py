"""Conformer encoder blocks (Gulati et al. 2020) with on-the-fly SpecAugment."""
import torch
import torch.nn as nn


class SpecAugment(nn.Module):
    def __init__(self, freq_width=27, time_ratio=0.05, n_freq_masks=2, n_time_masks=10):
        super().__init__()
        self.freq_width = freq_width
        self.time_ratio = time_ratio
        self.n_freq_masks = n_freq_masks
        self.n_time_masks = n_time_masks

    def forward(self, spec):  # (B, T, F)
        if not self.training:
            self.n_freq_masks, self.n_time_masks = 0, 0  # expect: MG203
        b, t, f = spec.shape
        spec = spec.clone()
        for i in range(b):
            for _ in range(self.n_freq_masks):
                w = int(torch.randint(0, self.freq_width + 1, ()))
                f0 = int(torch.randint(0, max(1, f - w), ()))
                spec[i, :, f0:f0 + w] = 0.0
            max_w = max(1, int(self.time_ratio * t))
            for _ in range(self.n_time_masks):
                w = int(torch.randint(0, max_w + 1, ()))
                t0 = int(torch.randint(0, max(1, t - w), ()))
                spec[i, t0:t0 + w, :] = 0.0
        return spec


class FeedForwardModule(nn.Module):
    def __init__(self, d, expansion=4, dropout=0.1):
        super().__init__()
        self.net = nn.Sequential(
            nn.LayerNorm(d), nn.Linear(d, d * expansion), nn.SiLU(), nn.Dropout(dropout),
            nn.Linear(d * expansion, d), nn.Dropout(dropout),
        )

    def forward(self, x):
        return self.net(x)


class ConvModule(nn.Module):
    def __init__(self, d, kernel_size=31, dropout=0.1):
        super().__init__()
        self.norm = nn.LayerNorm(d)
        self.pointwise_in = nn.Conv1d(d, 2 * d, 1)
        self.glu = nn.GLU(dim=1)
        self.depthwise = nn.Conv1d(d, d, kernel_size, padding=kernel_size // 2, groups=d)
        self.bn = nn.BatchNorm1d(d, momentum=0.9)  # expect: MG303
        self.act = nn.SiLU()
        self.pointwise_out = nn.Conv1d(d, d, 1)
        self.drop = nn.Dropout(dropout)

    def forward(self, x):
        y = self.norm(x).transpose(1, 2)
        y = self.glu(self.pointwise_in(y))
        y = self.act(self.bn(self.depthwise(y)))
        return self.drop(self.pointwise_out(y).transpose(1, 2))


class ConformerBlock(nn.Module):
    def __init__(self, d=256, heads=4, kernel_size=31, dropout=0.1):
        super().__init__()
        self.ff1 = FeedForwardModule(d, dropout=dropout)
        self.attn_norm = nn.LayerNorm(d)
        self.attn = nn.MultiheadAttention(d, heads, dropout=dropout, batch_first=True)
        self.attn_drop = nn.Dropout(dropout)
        self.conv = ConvModule(d, kernel_size, dropout)
        self.ff2 = FeedForwardModule(d, dropout=dropout)
        self.out_norm = nn.LayerNorm(d)

    def forward(self, x, pad_mask=None):
        x = x + 0.5 * self.ff1(x)
        h = self.attn_norm(x)
        h, _ = self.attn(h, h, h, key_padding_mask=pad_mask, need_weights=False)
        x = x + self.attn_drop(h)
        x = x + self.conv(x)
        x = x + 0.5 * self.ff2(x)
        return self.out_norm(x)


class ConformerEncoder(nn.Module):
    def __init__(self, n_mels=80, d=256, n_blocks=16, heads=4, dropout=0.1):
        super().__init__()
        self.specaug = SpecAugment()
        self.subsample = nn.Sequential(
            nn.Conv2d(1, d, 3, stride=2), nn.SiLU(), nn.Conv2d(d, d, 3, stride=2), nn.SiLU(),
        )
        self.proj = nn.Linear(d * (((n_mels - 1) // 2 - 1) // 2), d)
        self.blocks = nn.ModuleList([ConformerBlock(d, heads, dropout=dropout) for _ in range(n_blocks)])

    def forward(self, feats, lengths):
        x = self.subsample(self.specaug(feats).unsqueeze(1))
        b, c, t, f = x.shape
        x = self.proj(x.permute(0, 2, 1, 3).reshape(b, t, c * f))
        lengths = ((lengths - 1) // 2 - 1) // 2
        pad_mask = torch.arange(t, device=x.device)[None] >= lengths[:, None]
        for blk in self.blocks:
            x = blk(x, pad_mask)
        return x, lengths
