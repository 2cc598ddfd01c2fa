"""Score a VoxCeleb-style trial list with a compact ECAPA-TDNN and report EER / minDCF."""
import argparse

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchaudio

from sv_utils.metrics import compute_eer, compute_min_dcf


class SERes2Block(nn.Module):
    def __init__(self, channels, kernel=3, dilation=1, scale=8):
        super().__init__()
        width = channels // scale
        self.scale = scale
        self.convs = nn.ModuleList(
            [nn.Conv1d(width, width, kernel, dilation=dilation, padding=dilation * (kernel // 2))
             for _ in range(scale - 1)])
        self.bns = nn.ModuleList([nn.BatchNorm1d(width) for _ in range(scale - 1)])
        self.se = nn.Sequential(nn.AdaptiveAvgPool1d(1), nn.Conv1d(channels, 128, 1), nn.ReLU(),
                                nn.Conv1d(128, channels, 1), nn.Sigmoid())

    def forward(self, x):
        chunks = torch.chunk(x, self.scale, dim=1)
        out, prev = [], None
        for i, conv in enumerate(self.convs):
            sp = chunks[i] if prev is None else chunks[i] + prev
            prev = F.relu(self.bns[i](conv(sp)))
            out.append(prev)
        out.append(chunks[-1])
        y = torch.cat(out, dim=1)
        return x + y * self.se(y)


class EcapaLite(nn.Module):
    def __init__(self, n_mels=80, channels=512, emb_dim=192, freeze_bn=False):
        super().__init__()
        self.freeze_bn = freeze_bn  # expect: MG104
        self.stem = nn.Sequential(nn.Conv1d(n_mels, channels, 5, padding=2), nn.ReLU(),
                                  nn.BatchNorm1d(channels))
        self.blocks = nn.Sequential(*[SERes2Block(channels, dilation=d) for d in (2, 3, 4)])
        self.attn = nn.Sequential(nn.Conv1d(channels, 128, 1), nn.Tanh(), nn.Conv1d(128, channels, 1))
        self.bn_pool = nn.BatchNorm1d(channels * 2)
        self.fc = nn.Linear(channels * 2, emb_dim)

    def freeze_bn(self):
        for m in self.modules():
            if isinstance(m, nn.BatchNorm1d):
                m.eval()

    def param_groups(self, lr):
        if self.freeze_bn:
            others = [p for n, p in self.named_parameters() if "bn" not in n]
            return [{"params": others, "lr": lr}]
        return [{"params": self.parameters(), "lr": lr}]

    def forward(self, feats):
        h = self.blocks(self.stem(feats))
        w = torch.softmax(self.attn(h), dim=2)
        mu = (h * w).sum(dim=2)
        sigma = torch.sqrt(((h ** 2) * w).sum(dim=2) - mu ** 2 + 1e-5)
        return self.fc(self.bn_pool(torch.cat([mu, sigma], dim=1)))


fbank = torchaudio.transforms.MelSpectrogram(sample_rate=16000, n_fft=512, win_length=400,
                                             hop_length=160, n_mels=80)


@torch.no_grad()
def extract_embeddings(net, wav_paths, device):
    table = {}
    for path in wav_paths:
        wav, sr = torchaudio.load(path)
        feats = (fbank(wav) + 1e-6).log()
        feats = feats - feats.mean(dim=-1, keepdim=True)
        emb = net(feats.to(device))  # expect: MG102
        table[path] = F.normalize(emb, dim=1).squeeze(0).cpu()
    return table


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", required=True, help="lines: <label> <enroll.wav> <test.wav>")
    ap.add_argument("--ckpt", required=True)
    args = ap.parse_args()

    device = "cuda" if torch.cuda.is_available() else "cpu"
    net = EcapaLite().to(device)
    net.load_state_dict(torch.load(args.ckpt, map_location=device)["state_dict"])

    with open(args.trials) as fh:
        trials = [line.split() for line in fh]
    wavs = sorted({t[1] for t in trials} | {t[2] for t in trials})
    embs = extract_embeddings(net, wavs, device)

    labels = np.array([int(t[0]) for t in trials])
    scores = np.array([float(embs[t[1]] @ embs[t[2]]) for t in trials])
    eer, thr = compute_eer(scores, labels)
    min_dcf = compute_min_dcf(scores, labels, p_target=0.01)
    print(f"EER {eer * 100:.2f}% (thr {thr:.3f})  minDCF {min_dcf:.4f}")


if __name__ == "__main__":
    main()
