"""ECAPA-lite speaker embedding model with a frozen learnable-filterbank frontend."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class SincFrontend(nn.Module):
    def __init__(self, n_filters=80, kernel=251, sr=16000):
        super().__init__()
        low = torch.linspace(30, sr / 2 - 200, n_filters)
        self.low_hz = nn.Parameter(low.unsqueeze(1))
        self.band_hz = nn.Parameter(torch.full((n_filters, 1), 100.0))
        self.kernel, self.sr = kernel, sr
        self.register_buffer("t", torch.arange(-(kernel // 2), kernel // 2 + 1).float() / sr)
        self.norm = nn.BatchNorm1d(n_filters)

    def forward(self, wav):
        low = torch.abs(self.low_hz)
        high = low + torch.abs(self.band_hz)
        filt = (2 * high * torch.sinc(2 * high * self.t) - 2 * low * torch.sinc(2 * low * self.t))
        filt = filt * torch.hamming_window(self.kernel, device=wav.device)
        x = F.conv1d(wav.unsqueeze(1), filt.unsqueeze(1), stride=160, padding=self.kernel // 2)
        return self.norm(torch.log1p(x.abs()))


class SEResBlock(nn.Module):
    def __init__(self, ch, dilation):
        super().__init__()
        self.conv = nn.Conv1d(ch, ch, 3, padding=dilation, dilation=dilation)
        self.bn = nn.BatchNorm1d(ch)
        self.se = nn.Sequential(nn.AdaptiveAvgPool1d(1), nn.Conv1d(ch, ch // 8, 1), nn.ReLU(),
                                nn.Conv1d(ch // 8, ch, 1), nn.Sigmoid())

    def forward(self, x):
        y = F.relu(self.bn(self.conv(x)))
        return x + y * self.se(y)


class AttentiveStatsPool(nn.Module):
    def __init__(self, ch, hidden=128):
        super().__init__()
        self.att = nn.Sequential(nn.Conv1d(ch, hidden, 1), nn.Tanh(), nn.Conv1d(hidden, ch, 1))

    def forward(self, x):
        w = torch.softmax(self.att(x), dim=2)
        mu = (x * w).sum(2)
        sd = ((x ** 2 * w).sum(2) - mu ** 2).clamp(min=1e-5).sqrt()
        return torch.cat([mu, sd], 1)


class SpeakerEmbedder(nn.Module):
    def __init__(self, channels=512, embed_dim=192, n_speakers=5994, drop=0.25):
        super().__init__()
        self.frontend = SincFrontend()
        self.encoder = nn.Sequential(nn.Conv1d(80, channels, 5, padding=2), nn.ReLU(),
                                     *[SEResBlock(channels, d) for d in (2, 3, 4)])
        self.pool = AttentiveStatsPool(channels)
        self.head = nn.Sequential(nn.BatchNorm1d(2 * channels), nn.Dropout(drop),
                                  nn.Linear(2 * channels, embed_dim), nn.BatchNorm1d(embed_dim))
        self.classifier = nn.Linear(embed_dim, n_speakers, bias=False)
        # the filterbank was trained in stage 1 and stays fixed
        for p in self.frontend.parameters():
            p.requires_grad = False
        self.frontend.eval()

    def train(self, mode=True):  # expect: MG104
        self.training = mode
        self.encoder.train(mode)
        return self

    def embed(self, wav):
        return self.head(self.pool(self.encoder(self.frontend(wav))))

    def forward(self, wav, labels=None, margin=0.2, scale=30.0):
        emb = self.embed(wav)
        if labels is None:
            return F.normalize(emb, dim=1)
        cos = F.linear(F.normalize(emb), F.normalize(self.classifier.weight))
        onehot = F.one_hot(labels, cos.size(1)).to(cos.dtype)
        return F.cross_entropy(scale * (cos - margin * onehot), labels)


class CosineScorer(nn.Module):
    """Trial scoring; optionally learns a linear projection (train=True) before the cosine."""

    def __init__(self, embed_dim=192, proj_dim=128, train=False):
        super().__init__()
        self.train = train  # expect: MG104
        self.proj = nn.Linear(embed_dim, proj_dim, bias=False) if train else nn.Identity()
        self.register_buffer("mean", torch.zeros(embed_dim))

    def set_mean(self, embeddings):
        self.mean.copy_(embeddings.mean(0))

    def forward(self, enroll, test):
        e = F.normalize(self.proj(enroll - self.mean), dim=-1)
        t = F.normalize(self.proj(test - self.mean), dim=-1)
        return (e * t).sum(-1)
