"""BALD acquisition with MC dropout for histopathology patch classification.

Per acquisition round the classifier is re-trained from scratch on the current
labeled set; the pool is then scored with T stochastic forward passes where
only the dropout layers are sampled (BatchNorm uses its running statistics).
"""
import argparse

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, Subset

from patches import PCamPatches


class PatchNet(nn.Module):
    def __init__(self, n_cls=2, p=0.25):
        super().__init__()

        def block(i, o):
            return nn.Sequential(nn.Conv2d(i, o, 3, padding=1, bias=False), nn.BatchNorm2d(o),
                                 nn.ReLU(inplace=True), nn.MaxPool2d(2))

        self.body = nn.Sequential(block(3, 32), block(32, 64), block(64, 128), block(128, 128))
        self.drop1 = nn.Dropout(p)
        self.fc1 = nn.Linear(128 * 6 * 6, 256)
        self.drop2 = nn.Dropout(2 * p)
        self.fc2 = nn.Linear(256, n_cls)

    def forward(self, x):
        h = self.drop1(self.body(x).flatten(1))
        return self.fc2(self.drop2(F.relu(self.fc1(h))))


def enable_mc_dropout(net):
    """Inference mode everywhere, except that dropout keeps sampling (on purpose)."""
    net.eval()
    for m in net.modules():
        if isinstance(m, nn.Dropout):
            m.train()


def fit(net, loader, epochs, device):
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, weight_decay=1e-4)
    for _ in range(epochs):
        net.train()
        for x, y in loader:
            loss = F.cross_entropy(net(x.to(device)), y.to(device))
            opt.zero_grad()
            loss.backward()
            opt.step()


@torch.no_grad()
def bald_scores(net, loader, device, T=20):
    enable_mc_dropout(net)
    scores = []
    for x, _ in loader:
        x = x.to(device)
        probs = torch.stack([F.softmax(net(x), dim=1) for _ in range(T)])
        mean = probs.mean(0)
        h_mean = -(mean * mean.clamp_min(1e-10).log()).sum(1)
        mean_h = -(probs * probs.clamp_min(1e-10).log()).sum(2).mean(0)
        scores.append((h_mean - mean_h).cpu())
    return torch.cat(scores).numpy()


@torch.no_grad()
def accuracy(net, loader, device):
    net.eval()
    ok = n = 0
    for x, y in loader:
        ok += (net(x.to(device)).argmax(1).cpu() == y).sum().item()
        n += len(y)
    return ok / n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default="/data/pcam")
    ap.add_argument("--start", type=int, default=500)
    ap.add_argument("--query", type=int, default=250)
    ap.add_argument("--rounds", type=int, default=20)
    args = ap.parse_args()
    device = "cuda"
    rng = np.random.default_rng(0)

    train_set = PCamPatches(args.root, "train", size=96)
    test_loader = DataLoader(PCamPatches(args.root, "test", size=96), 512, num_workers=8)
    order = rng.permutation(len(train_set))
    labeled, pool = order[:args.start].tolist(), order[args.start:].tolist()

    for r in range(args.rounds):
        net = PatchNet().to(device)
        fit(net, DataLoader(Subset(train_set, labeled), 64, shuffle=True, drop_last=True), 25, device)
        acc = accuracy(net, test_loader, device)
        cand = rng.choice(len(pool), size=min(20000, len(pool)), replace=False)
        sc = bald_scores(net, DataLoader(Subset(train_set, [pool[i] for i in cand]), 512), device)
        chosen = {int(cand[i]) for i in np.argsort(-sc)[:args.query]}
        labeled += [pool[i] for i in chosen]
        pool = [p for i, p in enumerate(pool) if i not in chosen]
        print(f"round {r:2d} | labeled {len(labeled):5d} | test acc {acc:.4f}")


if __name__ == "__main__":
    main()
