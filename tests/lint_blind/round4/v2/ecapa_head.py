"""Speaker verification head trained on top of a frozen pretrained SSL front-end.

The front-end (conv feature extractor with BatchNorm + transformer) stays frozen and
in inference mode; only the attentive pooling and the projection are trained with
AAM-softmax.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class AttentiveStatsPool(nn.Module):
    def __init__(self, channels, bottleneck=128):
        super().__init__()
        self.attn = nn.Sequential(
            nn.Conv1d(channels, bottleneck, 1), nn.Tanh(), nn.Conv1d(bottleneck, channels, 1),
        )

    def forward(self, x):  # (B, C, T)
        w = torch.softmax(self.attn(x), dim=-1)
        mu = (x * w).sum(-1)
        sigma = ((x ** 2) * w).sum(-1).sub(mu ** 2).clamp_min(1e-6).sqrt()
        return torch.cat([mu, sigma], dim=1)


class SpeakerHead(nn.Module):
    def __init__(self, frontend: nn.Module, feat_dim=768, emb_dim=192, freeze_frontend=True):
        super().__init__()
        self.frontend = frontend
        self.freeze_frontend = freeze_frontend
        self.pool = AttentiveStatsPool(feat_dim)
        self.proj = nn.Sequential(nn.BatchNorm1d(2 * feat_dim), nn.Linear(2 * feat_dim, emb_dim),
                                  nn.BatchNorm1d(emb_dim))
        if freeze_frontend:
            for p in self.frontend.parameters():
                p.requires_grad = False

    def train(self, mode=True):  # expect: MG104
        super().train(mode)
        if self.freeze_frontend:
            self.frontend.eval()

    def forward(self, wav, wav_lens=None):
        with torch.set_grad_enabled(not self.freeze_frontend and self.training):
            feats = self.frontend(wav, wav_lens)  # (B, T, C)
        return self.proj(self.pool(feats.transpose(1, 2)))


class AAMSoftmax(nn.Module):
    def __init__(self, emb_dim, n_classes, margin=0.2, scale=30.0):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n_classes, emb_dim) * 0.01)
        self.m, self.s = margin, scale
        self.cos_m, self.sin_m = math.cos(margin), math.sin(margin)
        self.th, self.mm = math.cos(math.pi - margin), math.sin(math.pi - margin) * margin

    def forward(self, emb, label):
        cosine = F.linear(F.normalize(emb), F.normalize(self.weight))
        sine = (1.0 - cosine.pow(2)).clamp(0, 1).sqrt()
        phi = cosine * self.cos_m - sine * self.sin_m
        phi = torch.where(cosine > self.th, phi, cosine - self.mm)
        onehot = F.one_hot(label, cosine.size(1)).to(cosine.dtype)
        logits = self.s * (onehot * phi + (1 - onehot) * cosine)
        return F.cross_entropy(logits, label)


def train_head(head, criterion, loader, epochs, device):
    params = [p for p in list(head.parameters()) + list(criterion.parameters()) if p.requires_grad]
    opt = torch.optim.Adam(params, lr=1e-3, weight_decay=2e-5)
    for ep in range(epochs):
        head.train()
        for wav, lens, spk in loader:
            loss = criterion(head(wav.to(device), lens.to(device)), spk.to(device))
            opt.zero_grad()
            loss.backward()
            opt.step()
        print(f"epoch {ep} aam loss {loss.item():.3f}")
