"""Few-shot transfer of a Speech-Commands keyword spotter to a new wake word set.

We keep the pretrained normalisation layers untouched because the target data
set only has ~40 utterances per keyword.
"""
import argparse

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchaudio
from torch.utils.data import DataLoader

from kws.datasets import WakeWordFolder


class ResBlock(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.c1 = nn.Conv2d(ch, ch, 3, padding=1, bias=False)
        self.b1 = nn.BatchNorm2d(ch)
        self.c2 = nn.Conv2d(ch, ch, 3, padding=1, bias=False)
        self.b2 = nn.BatchNorm2d(ch)

    def forward(self, x):
        y = F.relu(self.b1(self.c1(x)))
        return F.relu(x + self.b2(self.c2(y)))


class KWSNet(nn.Module):
    def __init__(self, n_words, ch=45, blocks=6):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, ch, 3, padding=1, bias=False), nn.BatchNorm2d(ch), nn.ReLU())
        self.body = nn.Sequential(*[ResBlock(ch) for _ in range(blocks)])
        self.classifier = nn.Linear(ch, n_words)

    def forward(self, mel):
        h = self.body(self.stem(mel.unsqueeze(1)))
        return self.classifier(h.mean(dim=(2, 3)))


def keep_pretrained_norms(net):
    for mod in net.modules():
        if isinstance(mod, nn.BatchNorm2d):
            mod.requires_grad_(False)  # expect: MG302


def accuracy(net, loader, featurize, device):
    was_training = net.training
    net.eval()
    correct = total = 0
    with torch.inference_mode():
        for wav, y in loader:
            pred = net(featurize(wav.to(device))).argmax(-1)
            correct += (pred.cpu() == y).sum().item()
            total += y.numel()
    net.train(was_training)
    return correct / max(total, 1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pretrained", default="checkpoints/res8_speechcommands.pt")
    ap.add_argument("--data", default="data/wakewords")
    ap.add_argument("--steps", type=int, default=3000)
    args = ap.parse_args()

    device = "cuda" if torch.cuda.is_available() else "cpu"
    featurize = nn.Sequential(
        torchaudio.transforms.MelSpectrogram(16000, n_fft=480, hop_length=160, n_mels=40),
        torchaudio.transforms.AmplitudeToDB(),
    ).to(device)

    train_set = WakeWordFolder(args.data, "train", augment=True)
    dev_set = WakeWordFolder(args.data, "dev")
    net = KWSNet(n_words=12)
    sd = torch.load(args.pretrained, map_location="cpu")
    sd = {k: v for k, v in sd.items() if not k.startswith("classifier.")}
    net.load_state_dict(sd, strict=False)
    net.classifier = nn.Linear(45, len(train_set.classes))
    keep_pretrained_norms(net)
    net.to(device)

    opt = torch.optim.Adam([p for p in net.parameters() if p.requires_grad], lr=3e-4)
    tl = DataLoader(train_set, batch_size=32, shuffle=True, drop_last=True)
    dl = DataLoader(dev_set, batch_size=64)

    step = 0
    net.train()
    while step < args.steps:
        for wav, y in tl:
            logits = net(featurize(wav.to(device)))
            loss = F.cross_entropy(logits, y.to(device), label_smoothing=0.1)
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            if step % 250 == 0:
                print(f"step {step} loss {loss.item():.3f} dev acc {accuracy(net, dl, featurize, device):.3f}")
            if step >= args.steps:
                break
    torch.save(net.state_dict(), "kws_wakeword.pt")


if __name__ == "__main__":
    main()
