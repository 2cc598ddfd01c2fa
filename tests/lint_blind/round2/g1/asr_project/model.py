"""CRDNN acoustic model (CNN + BiLSTM + DNN) with a CTC output layer."""
from dataclasses import dataclass

import torch
import torch.nn as nn


@dataclass
class ModelConfig:
    n_mels: int = 80
    cnn_channels: tuple = (64, 128)
    rnn_hidden: int = 512
    rnn_layers: int = 4
    dnn_hidden: int = 512
    dropout: float = 0.15
    vocab_size: int = 32


class CNNBlock(nn.Module):
    def __init__(self, cin, cout, p):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.norm1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.norm2 = nn.BatchNorm2d(cout)
        self.pool = nn.MaxPool2d((1, 2))
        self.drop = nn.Dropout2d(p)

    def forward(self, x):
        x = torch.relu(self.norm1(self.conv1(x)))
        x = torch.relu(self.norm2(self.conv2(x)))
        return self.drop(self.pool(x))


class CRDNN(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        chans = (1,) + tuple(cfg.cnn_channels)
        self.cnn = nn.Sequential(*[CNNBlock(chans[i], chans[i + 1], cfg.dropout)
                                   for i in range(len(cfg.cnn_channels))])
        freq = cfg.n_mels // (2 ** len(cfg.cnn_channels))
        self.rnn = nn.LSTM(chans[-1] * freq, cfg.rnn_hidden, cfg.rnn_layers,
                           bidirectional=True, batch_first=True, dropout=cfg.dropout)
        self.dnn = nn.Sequential(
            nn.Linear(2 * cfg.rnn_hidden, cfg.dnn_hidden), nn.BatchNorm1d(cfg.dnn_hidden),
            nn.LeakyReLU(), nn.Dropout(cfg.dropout))
        self.out = nn.Linear(cfg.dnn_hidden, cfg.vocab_size)

    def forward(self, feats):
        # feats: (B, T, n_mels)
        h = self.cnn(feats.unsqueeze(1))
        b, c, t, f = h.shape
        h, _ = self.rnn(h.permute(0, 2, 1, 3).reshape(b, t, c * f))
        h = self.dnn(h.reshape(b * t, -1)).view(b, t, -1)
        return self.out(h).log_softmax(dim=-1)


def build_asr_model(cfg: ModelConfig = None) -> CRDNN:
    return CRDNN(cfg or ModelConfig())
