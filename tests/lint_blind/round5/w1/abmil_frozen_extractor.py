"""Gated-attention MIL for slide-level tumour detection (CAMELYON16) trained end-to-end on
small tile bags, with a frozen pretrained tile encoder.

The encoder is a submodule of the MIL model, so a plain `model.train()` would switch its
BatchNorm/Dropout back on; train() is overridden to keep it in eval mode.
"""
import argparse
import random

import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.metrics import roc_auc_score
from torchvision.models import resnet18, ResNet18_Weights

from camelyon_bags import TileBagDataset


class GatedAttention(nn.Module):
    def __init__(self, d, h=128, drop=0.25):
        super().__init__()
        self.v = nn.Sequential(nn.Linear(d, h), nn.Tanh(), nn.Dropout(drop))
        self.u = nn.Sequential(nn.Linear(d, h), nn.Sigmoid(), nn.Dropout(drop))
        self.w = nn.Linear(h, 1)

    def forward(self, x):  # x: (N, d)
        a = self.w(self.v(x) * self.u(x)).squeeze(-1)
        return torch.softmax(a, dim=0)


class ABMIL(nn.Module):
    def __init__(self, n_classes=2):
        super().__init__()
        enc = resnet18(weights=ResNet18_Weights.IMAGENET1K_V1)
        enc.fc = nn.Identity()
        self.encoder = enc
        for p in self.encoder.parameters():
            p.requires_grad = False
        self.proj = nn.Sequential(nn.Linear(512, 256), nn.ReLU(), nn.Dropout(0.25))
        self.attn = GatedAttention(256)
        self.cls = nn.Linear(256, n_classes)
        self.encoder.eval()

    def train(self, mode: bool = True):
        super().train(mode)
        self.encoder.eval()  # frozen feature extractor never leaves eval mode
        return self

    def forward(self, tiles):  # tiles: (N, 3, 224, 224), one bag
        with torch.no_grad():
            feats = self.encoder(tiles)
        h = self.proj(feats)
        a = self.attn(h)
        bag = torch.einsum("n,nd->d", a, h)
        return self.cls(bag), a


def evaluate(model, bags, device):
    model.eval()
    probs, labels = [], []
    with torch.inference_mode():
        for tiles, y in bags:
            logits, _ = model(tiles.to(device))
            probs.append(torch.softmax(logits, -1)[1].item())
            labels.append(int(y))
    model.train()
    return roc_auc_score(labels, probs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bags", required=True)
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--max-tiles", type=int, default=512)
    args = ap.parse_args()
    device = torch.device("cuda")

    train_bags = TileBagDataset(args.bags, "train", max_tiles=args.max_tiles)
    val_bags = TileBagDataset(args.bags, "val", max_tiles=None)
    model = ABMIL().to(device)
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=2e-4, weight_decay=1e-5)
    accum = 8

    model.train()
    for epoch in range(args.epochs):
        order = list(range(len(train_bags)))
        random.shuffle(order)
        opt.zero_grad()
        for k, i in enumerate(order):
            tiles, y = train_bags[i]
            logits, _ = model(tiles.to(device))
            loss = F.cross_entropy(logits[None], torch.tensor([y], device=device)) / accum
            loss.backward()
            if (k + 1) % accum == 0:
                opt.step()
                opt.zero_grad()
            if (k + 1) % 200 == 0:
                print(f"epoch {epoch} bag {k + 1}: val AUC {evaluate(model, val_bags, device):.4f}")
        print(f"end of epoch {epoch}: val AUC {evaluate(model, val_bags, device):.4f}")
    torch.save(model.state_dict(), "abmil_camelyon16.pt")


if __name__ == "__main__":
    main()
