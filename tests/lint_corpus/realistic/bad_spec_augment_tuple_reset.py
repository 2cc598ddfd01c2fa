"""Speech encoder with a SpecAugment-style masking layer. To skip masking at inference the layer
overwrites its own mask widths with zero when it is not training; after the first validation pass
the widths stay zero, so augmentation is silently gone for the rest of training."""
import torch
import torch.nn as nn


class SpecAugment(nn.Module):
    def __init__(self, n_freq=27, n_time=40):
        super().__init__()
        self.n_freq = n_freq
        self.n_time = n_time

    def _mask(self, x, width, dim):
        if width == 0:
            return x
        size = x.size(dim)
        w = int(torch.randint(0, width + 1, (1,)))
        start = int(torch.randint(0, max(size - w, 1), (1,)))
        idx = torch.arange(size, device=x.device)
        keep = ~((idx >= start) & (idx < start + w))
        shape = [1] * x.dim()
        shape[dim] = size
        return x * keep.view(shape).to(x.dtype)

    def forward(self, spec):  # spec: (batch, freq, time)
        if not self.training:
            self.n_freq, self.n_time = 0, 0  # expect: MG203
        spec = self._mask(spec, self.n_freq, dim=1)
        return self._mask(spec, self.n_time, dim=2)


class SpeechEncoder(nn.Module):
    def __init__(self, n_mels=80, hidden=256, vocab=32):
        super().__init__()
        self.augment = SpecAugment()
        self.conv = nn.Sequential(nn.Conv1d(n_mels, hidden, 5, stride=2, padding=2), nn.BatchNorm1d(hidden), nn.GELU())
        self.rnn = nn.LSTM(hidden, hidden, num_layers=2, batch_first=True, dropout=0.1)
        self.out = nn.Linear(hidden, vocab)

    def forward(self, mels):
        x = self.conv(self.augment(mels))
        x, _ = self.rnn(x.transpose(1, 2))
        return self.out(x).log_softmax(-1)
