"""Small Conformer-CTC acoustic model."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class SpecAugment(nn.Module):
    def __init__(self, freq_masks=2, F_=27, time_masks=2, T=40):
        super().__init__()
        self.freq_masks, self.F, self.time_masks, self.T = freq_masks, F_, time_masks, T

    def forward(self, x):  # x: (B, T, F)
        if not self.training:
            return x
        x = x.clone()
        B, T, Fdim = x.shape
        for b in range(B):
            for _ in range(self.freq_masks):
                f = torch.randint(0, self.F + 1, ()).item()
                f0 = torch.randint(0, max(1, Fdim - f), ()).item()
                x[b, :, f0:f0 + f] = 0
            for _ in range(self.time_masks):
                t = torch.randint(0, self.T + 1, ()).item()
                t0 = torch.randint(0, max(1, T - t), ()).item()
                x[b, t0:t0 + t] = 0
        return x


class MHSA(nn.Module):
    def __init__(self, d, h, p):
        super().__init__()
        self.h, self.p = h, p
        self.qkv = nn.Linear(d, 3 * d)
        self.out = nn.Linear(d, d)

    def forward(self, x, pad_mask):
        B, T, D = x.shape
        q, k, v = self.qkv(x).view(B, T, 3, self.h, D // self.h).unbind(2)
        q, k, v = (t.transpose(1, 2) for t in (q, k, v))
        attn_mask = ~pad_mask[:, None, None, :]
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask,
                                           dropout_p=self.p if self.training else 0.0)
        return self.out(y.transpose(1, 2).reshape(B, T, D))


class ConvModule(nn.Module):
    def __init__(self, d, k=31, p=0.1):
        super().__init__()
        self.pw1 = nn.Conv1d(d, 2 * d, 1)
        self.dw = nn.Conv1d(d, d, k, padding=k // 2, groups=d)
        self.bn = nn.BatchNorm1d(d)
        self.pw2 = nn.Conv1d(d, d, 1)
        self.drop = nn.Dropout(p)

    def forward(self, x):
        y = F.glu(self.pw1(x.transpose(1, 2)), dim=1)
        y = self.pw2(F.silu(self.bn(self.dw(y))))
        return self.drop(y.transpose(1, 2))


class ConformerBlock(nn.Module):
    def __init__(self, d=256, h=4, p=0.1):
        super().__init__()
        self.ff1 = nn.Sequential(nn.LayerNorm(d), nn.Linear(d, 4 * d), nn.SiLU(), nn.Dropout(p), nn.Linear(4 * d, d))
        self.ln_att = nn.LayerNorm(d)
        self.att = MHSA(d, h, p)
        self.ln_conv = nn.LayerNorm(d)
        self.conv = ConvModule(d, p=p)
        self.ff2 = nn.Sequential(nn.LayerNorm(d), nn.Linear(d, 4 * d), nn.SiLU(), nn.Dropout(p), nn.Linear(4 * d, d))
        self.ln_out = nn.LayerNorm(d)
        self.drop = nn.Dropout(p)

    def forward(self, x, pad_mask):
        x = x + 0.5 * self.ff1(x)
        x = x + self.drop(self.att(self.ln_att(x), pad_mask))
        x = x + self.conv(self.ln_conv(x))
        x = x + 0.5 * self.ff2(x)
        return self.ln_out(x)


class ConformerCTC(nn.Module):
    def __init__(self, n_mels=80, vocab=256, d=256, layers=12, heads=4, p=0.1):
        super().__init__()
        self.specaug = SpecAugment()
        self.subsample = nn.Sequential(nn.Conv2d(1, d, 3, 2), nn.ReLU(), nn.Conv2d(d, d, 3, 2), nn.ReLU())
        self.proj = nn.Linear(d * (((n_mels - 1) // 2 - 1) // 2), d)
        self.blocks = nn.ModuleList(ConformerBlock(d, heads, p) for _ in range(layers))
        self.ctc = nn.Linear(d, vocab)

    def forward(self, feats, lens):
        x = self.subsample(self.specaug(feats).unsqueeze(1))
        B, C, T, Fq = x.shape
        x = self.proj(x.permute(0, 2, 1, 3).reshape(B, T, C * Fq))
        out_lens = ((lens - 1) // 2 - 1) // 2
        pad_mask = torch.arange(T, device=x.device)[None] >= out_lens[:, None]
        for blk in self.blocks:
            x = blk(x, pad_mask)
        return self.ctc(x).log_softmax(-1), out_lens
