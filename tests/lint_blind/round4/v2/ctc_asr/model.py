"""Acoustic model: 2-D conv subsampling (with BatchNorm) + BiLSTM + CTC projection."""
import torch
import torch.nn as nn


class ConvSubsampler(nn.Module):
    def __init__(self, n_mels, channels=32):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, channels, kernel_size=(41, 11), stride=(2, 2), padding=(20, 5), bias=False),
            nn.BatchNorm2d(channels),
            nn.Hardtanh(0, 20, inplace=True),
            nn.Conv2d(channels, channels, kernel_size=(21, 11), stride=(2, 1), padding=(10, 5), bias=False),
            nn.BatchNorm2d(channels),
            nn.Hardtanh(0, 20, inplace=True),
        )
        self.out_dim = channels * ((n_mels + 1) // 2 + 1) // 2

    def forward(self, feats, lengths):  # feats (B, T, F)
        x = self.body(feats.transpose(1, 2).unsqueeze(1))  # (B, C, F', T')
        b, c, f, t = x.shape
        x = x.reshape(b, c * f, t).transpose(1, 2)
        lengths = torch.div(lengths - 1, 2, rounding_mode="floor") + 1
        return x, lengths


class BiLSTMCTC(nn.Module):
    def __init__(self, n_mels, vocab_size, hidden=768, layers=5, dropout=0.3):
        super().__init__()
        self.subsampler = ConvSubsampler(n_mels)
        self.proj = nn.Linear(self.subsampler.out_dim, hidden)
        self.lstm = nn.LSTM(hidden, hidden, num_layers=layers, dropout=dropout,
                            bidirectional=True, batch_first=True)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(2 * hidden, vocab_size)

    def forward(self, feats, lengths):
        x, lengths = self.subsampler(feats, lengths)
        x = self.proj(x)
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        out, _ = self.lstm(packed)
        out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True)
        return self.classifier(self.dropout(out)).log_softmax(-1), lengths


def build_model(cfg):
    return BiLSTMCTC(n_mels=cfg["n_mels"], vocab_size=cfg["vocab_size"],
                     hidden=cfg.get("hidden", 768), layers=cfg.get("layers", 5),
                     dropout=cfg.get("dropout", 0.3))
