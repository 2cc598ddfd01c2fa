"""Fine-tune a pretrained CNN14-style audio tagger on a small sound-event dataset.

Batches are small (8 clips), so the pretrained BatchNorm layers are frozen: their
affine parameters are excluded from training and they stay in inference mode,
which `train()` re-applies every time it is called.
"""
import argparse

import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.metrics import average_precision_score

from audio_tasks import esc50_folds, LogMelFrontend


def conv_block(c_in, c_out):
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True),
        nn.Conv2d(c_out, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True),
        nn.AvgPool2d(2),
    )


class AudioTagger(nn.Module):
    def __init__(self, n_classes, widths=(64, 128, 256, 512, 1024, 2048), freeze_bn=True, dropout=0.2):
        super().__init__()
        self.frontend = LogMelFrontend(sample_rate=32000, n_mels=64)
        self.bn0 = nn.BatchNorm2d(64)
        chans = (1,) + tuple(widths)
        self.blocks = nn.Sequential(*[conv_block(a, b) for a, b in zip(chans[:-1], chans[1:])])
        self.drop = nn.Dropout(dropout)
        self.fc = nn.Linear(widths[-1], n_classes)
        self.bn_frozen = freeze_bn
        if freeze_bn:
            for m in self.modules():
                if isinstance(m, nn.BatchNorm2d):
                    m.weight.requires_grad_(False)
                    m.bias.requires_grad_(False)

    def train(self, mode: bool = True):
        super().train(mode)
        if mode and self.bn_frozen:
            for m in self.modules():
                if isinstance(m, nn.BatchNorm2d):
                    m.eval()
        return self

    def forward(self, wav):
        x = self.frontend(wav)  # (B, 1, T, M)
        x = self.bn0(x.transpose(1, 3)).transpose(1, 3)
        x = self.blocks(x)
        x = x.mean(dim=3)
        x = x.max(dim=2).values + x.mean(dim=2)
        return self.fc(self.drop(x))


def run_fold(fold, args, device):
    train_dl, test_dl, n_classes = esc50_folds(args.root, test_fold=fold, batch_size=8)
    tagger = AudioTagger(n_classes).to(device)
    state = torch.load(args.pretrained, map_location="cpu")
    tagger.load_state_dict({k: v for k, v in state.items() if not k.startswith("fc.")}, strict=False)
    opt = torch.optim.Adam([p for p in tagger.parameters() if p.requires_grad], lr=1e-4)

    for epoch in range(args.epochs):
        tagger.train()
        for wav, y in train_dl:
            loss = F.cross_entropy(tagger(wav.to(device)), y.to(device))
            opt.zero_grad()
            loss.backward()
            opt.step()

    tagger.eval()
    scores, labels = [], []
    with torch.no_grad():
        for wav, y in test_dl:
            scores.append(tagger(wav.to(device)).softmax(-1).cpu())
            labels.append(F.one_hot(y, n_classes))
    scores, labels = torch.cat(scores).numpy(), torch.cat(labels).numpy()
    acc = float((scores.argmax(1) == labels.argmax(1)).mean())
    return acc, average_precision_score(labels, scores, average="macro")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default="/data/ESC-50")
    ap.add_argument("--pretrained", default="ckpt/cnn14.pth")
    ap.add_argument("--epochs", type=int, default=30)
    args = ap.parse_args()
    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    results = [run_fold(f, args, dev) for f in range(1, 6)]
    print("acc %.4f  mAP %.4f" % tuple(sum(r[i] for r in results) / len(results) for i in range(2)))
