"""FastSpeech2-lite: variance adaptor + mel dumping for an external vocoder.

    python fastspeech_infer.py --ckpt ckpt/fs2_200k.pt --texts sentences.txt --out mels/
"""
import argparse
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from fs2.layers import FFTBlock, PositionalEncoding
from fs2.text import text_to_sequence


class VariancePredictor(nn.Module):
    """Two conv layers -> scalar per phoneme (duration / pitch / energy)."""

    def __init__(self, dim, filter_size=256, kernel=3, dropout=0.5):
        super().__init__()
        self.conv1 = nn.Conv1d(dim, filter_size, kernel, padding=kernel // 2)
        self.norm1 = nn.LayerNorm(filter_size)
        self.conv2 = nn.Conv1d(filter_size, filter_size, kernel, padding=kernel // 2)
        self.norm2 = nn.LayerNorm(filter_size)
        self.proj = nn.Linear(filter_size, 1)
        self.dropout = dropout

    def forward(self, x, mask=None):
        h = F.relu(self.conv1(x.transpose(1, 2))).transpose(1, 2)
        h = F.dropout(self.norm1(h), self.dropout)  # expect: MG201
        h = F.relu(self.conv2(h.transpose(1, 2))).transpose(1, 2)
        h = F.dropout(self.norm2(h), self.dropout, training=self.training)
        out = self.proj(h).squeeze(-1)
        if mask is not None:
            out = out.masked_fill(mask, 0.0)
        return out


def length_regulate(h, durations):
    expanded = [torch.repeat_interleave(seq, d.clamp(min=0), dim=0)
                for seq, d in zip(h, durations)]
    return nn.utils.rnn.pad_sequence(expanded, batch_first=True)


class FastSpeech2Lite(nn.Module):
    def __init__(self, n_symbols, dim=256, n_layers=4, n_mels=80, n_bins=256):
        super().__init__()
        self.embed = nn.Embedding(n_symbols, dim, padding_idx=0)
        self.pos = PositionalEncoding(dim)
        self.encoder = nn.ModuleList([FFTBlock(dim, heads=2, dropout=0.2) for _ in range(n_layers)])
        self.duration = VariancePredictor(dim)
        self.pitch = VariancePredictor(dim)
        self.energy = VariancePredictor(dim)
        self.pitch_embed = nn.Embedding(n_bins, dim)
        self.energy_embed = nn.Embedding(n_bins, dim)
        self.register_buffer("pitch_bins", torch.linspace(-3.0, 3.0, n_bins - 1))
        self.register_buffer("energy_bins", torch.linspace(-2.0, 4.0, n_bins - 1))
        self.decoder = nn.ModuleList([FFTBlock(dim, heads=2, dropout=0.2) for _ in range(n_layers)])
        self.to_mel = nn.Linear(dim, n_mels)

    def forward(self, tokens, speed=1.0):
        h = self.pos(self.embed(tokens))
        for blk in self.encoder:
            h = blk(h)
        log_dur = self.duration(h)
        dur = torch.clamp(torch.round((torch.exp(log_dur) - 1) * speed), min=0).long()
        pitch = self.pitch(h)
        energy = self.energy(h)
        h = h + self.pitch_embed(torch.bucketize(pitch, self.pitch_bins))
        h = h + self.energy_embed(torch.bucketize(energy, self.energy_bins))
        h = length_regulate(h, dur)
        for blk in self.decoder:
            h = blk(h)
        return self.to_mel(h), dur


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--texts", required=True)
    ap.add_argument("--out", default="mels")
    ap.add_argument("--speed", type=float, default=1.0)
    args = ap.parse_args()

    state = torch.load(args.ckpt, map_location="cpu")
    tts = FastSpeech2Lite(n_symbols=state["n_symbols"])
    tts.load_state_dict(state["model"])
    tts.eval()

    os.makedirs(args.out, exist_ok=True)
    with open(args.texts, encoding="utf-8") as fh:
        lines = [ln.strip() for ln in fh if ln.strip()]
    for i, line in enumerate(lines):
        tokens = torch.LongTensor(text_to_sequence(line, ["english_cleaners"])).unsqueeze(0)
        mel, dur = tts(tokens, speed=args.speed)  # expect: MG401
        np.save(os.path.join(args.out, f"{i:04d}.npy"), mel[0].detach().numpy().T)
        print(f"[{i}] {line[:40]!r}: {int(dur.sum())} frames")


if __name__ == "__main__":
    main()
