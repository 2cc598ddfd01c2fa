"""Manifest-based dataset, character vocabulary and padding collate for CTC training."""
import json

import torch
import torchaudio
from torch.nn.utils.rnn import pad_sequence
from torch.utils.data import DataLoader, Dataset


class CharVocab:
    blank = 0

    def __init__(self, chars="abcdefghijklmnopqrstuvwxyz' "):
        self.itos = ["<blank>"] + list(chars)
        self.stoi = {c: i for i, c in enumerate(self.itos)}

    def __len__(self):
        return len(self.itos)

    def encode(self, text):
        return [self.stoi[c] for c in text.lower() if c in self.stoi]

    def decode(self, ids):
        return "".join(self.itos[i] for i in ids if i != self.blank)


class ManifestDataset(Dataset):
    def __init__(self, manifest, vocab, n_mels=80, max_seconds=16.0):
        with open(manifest) as fh:
            rows = [json.loads(l) for l in fh]
        self.rows = [r for r in rows if r["duration"] <= max_seconds]
        self.vocab = vocab
        self.mel = torchaudio.transforms.MelSpectrogram(16000, n_fft=512, win_length=400,
                                                        hop_length=160, n_mels=n_mels)

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, idx):
        row = self.rows[idx]
        wav, _ = torchaudio.load(row["audio_filepath"])
        spec = (self.mel(wav)[0] + 1e-6).log().transpose(0, 1)
        spec = (spec - spec.mean(0)) / (spec.std(0) + 1e-5)
        return spec, torch.tensor(self.vocab.encode(row["text"])), row["text"]


def collate(batch):
    specs, targets, texts = zip(*batch)
    return (pad_sequence(specs, batch_first=True), torch.tensor([s.size(0) for s in specs]),
            torch.cat(targets), torch.tensor([t.numel() for t in targets]), list(texts))


def make_loader(manifest, vocab, batch_size, train):
    ds = ManifestDataset(manifest, vocab)
    return DataLoader(ds, batch_size=batch_size, shuffle=train, num_workers=6,
                      collate_fn=collate, drop_last=train, pin_memory=True)
