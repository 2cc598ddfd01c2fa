"""Pretrained speech encoder (conv front-end with BatchNorm + transformer) and an
utterance-level intent head for spoken language understanding."""
import torch
import torch.nn as nn


class ConvFrontEnd(nn.Module):
    def __init__(self, n_mels=80, channels=256):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Conv1d(n_mels, channels, 3, stride=1, padding=1), nn.BatchNorm1d(channels), nn.ReLU(),
            nn.Conv1d(channels, channels, 3, stride=2, padding=1), nn.BatchNorm1d(channels), nn.ReLU(),
            nn.Conv1d(channels, channels, 3, stride=2, padding=1), nn.BatchNorm1d(channels), nn.ReLU(),
        )

    def forward(self, mels):  # (B, T, n_mels)
        return self.layers(mels.transpose(1, 2)).transpose(1, 2)


class SpeechEncoder(nn.Module):
    def __init__(self, n_mels=80, d_model=256, layers=8, heads=4, dropout=0.1):
        super().__init__()
        self.frontend = ConvFrontEnd(n_mels, d_model)
        layer = nn.TransformerEncoderLayer(d_model, heads, 4 * d_model, dropout, batch_first=True)
        self.transformer = nn.TransformerEncoder(layer, layers)

    def forward(self, mels, pad_mask=None):
        return self.transformer(self.frontend(mels), src_key_padding_mask=pad_mask)


class IntentModel(nn.Module):
    def __init__(self, encoder: SpeechEncoder, n_intents, d_model=256, dropout=0.2):
        super().__init__()
        self.encoder = encoder
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(d_model, d_model), nn.GELU(),
                                  nn.Dropout(dropout), nn.Linear(d_model, n_intents))

    def forward(self, mels, lengths):
        t = (lengths + 3) // 4
        h = self.encoder(mels)
        mask = (torch.arange(h.size(1), device=h.device)[None] < t[:, None]).unsqueeze(-1)
        pooled = (h * mask).sum(1) / mask.sum(1).clamp_min(1)
        return self.head(pooled)


def load_pretrained_encoder(path, **kw):
    enc = SpeechEncoder(**kw)
    state = torch.load(path, map_location="cpu")
    enc.load_state_dict(state["encoder"], strict=True)
    return enc
