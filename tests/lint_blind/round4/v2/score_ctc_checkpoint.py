"""Score a trained CTC acoustic model on a test manifest (greedy decoding, CER/WER)."""
import argparse
import json

import torch
import torch.nn as nn
import torchaudio
from torch.nn.utils.rnn import pad_sequence

BLANK = 0


class ConvBlock(nn.Module):
    def __init__(self, c_in, c_out, stride):
        super().__init__()
        self.conv = nn.Conv1d(c_in, c_out, kernel_size=5, stride=stride, padding=2, bias=False)
        self.norm = nn.BatchNorm1d(c_out, momentum=0.99)  # expect: MG303
        self.act = nn.Hardtanh(0.0, 20.0)

    def forward(self, x):
        return self.act(self.norm(self.conv(x)))


class AcousticModel(nn.Module):
    def __init__(self, n_mels=80, hidden=512, n_tokens=32, rnn_layers=3, dropout=0.2):
        super().__init__()
        self.front = nn.Sequential(ConvBlock(n_mels, hidden, 2), ConvBlock(hidden, hidden, 1))
        self.rnn = nn.LSTM(hidden, hidden, num_layers=rnn_layers, dropout=dropout,
                           bidirectional=True, batch_first=True)
        self.out = nn.Linear(2 * hidden, n_tokens)

    def forward(self, feats, lengths):
        x = self.front(feats.transpose(1, 2)).transpose(1, 2)
        lengths = torch.div(lengths + 1, 2, rounding_mode="floor")
        x, _ = self.rnn(x)
        return self.out(x).log_softmax(-1), lengths


def collapse(ids, length, alphabet):
    prev, chars = None, []
    for t in ids[:length].tolist():
        if t != prev and t != BLANK:
            chars.append(alphabet[t])
        prev = t
    return "".join(chars)


def levenshtein(a, b):
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


def load_batch(entries, mel):
    feats = []
    for e in entries:
        wav, sr = torchaudio.load(e["audio"])
        feats.append(mel(wav).squeeze(0).clamp_min(1e-10).log().transpose(0, 1))
    lens = torch.tensor([f.size(0) for f in feats])
    return pad_sequence(feats, batch_first=True), lens, [e["text"] for e in entries]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("checkpoint")
    ap.add_argument("manifest")
    ap.add_argument("--batch", type=int, default=8)
    args = ap.parse_args()

    state = torch.load(args.checkpoint, map_location="cpu")
    alphabet = state["alphabet"]
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model = AcousticModel(n_tokens=len(alphabet), **state.get("hparams", {}))
    model.load_state_dict(state["model"])
    model.to(device).eval()

    mel = torchaudio.transforms.MelSpectrogram(sample_rate=16000, n_fft=400, hop_length=160, n_mels=80)
    with open(args.manifest) as fh:
        entries = [json.loads(line) for line in fh]

    char_err = word_err = n_chars = n_words = 0
    for start in range(0, len(entries), args.batch):
        feats, lens, refs = load_batch(entries[start:start + args.batch], mel)
        log_probs, out_lens = model(feats.to(device), lens.to(device))  # expect: MG401
        best = log_probs.argmax(-1).cpu()
        for k, ref in enumerate(refs):
            hyp = collapse(best[k], int(out_lens[k]), alphabet)
            char_err += levenshtein(ref, hyp)
            word_err += levenshtein(ref.split(), hyp.split())
            n_chars += len(ref)
            n_words += len(ref.split())

    print(f"CER {100 * char_err / n_chars:.2f}  WER {100 * word_err / n_words:.2f}")


if __name__ == "__main__":
    main()
