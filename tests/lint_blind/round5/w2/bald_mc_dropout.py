"""BALD acquisition with Monte-Carlo dropout for an audio-event classifier (ESC-50 style).

Dropout is deliberately kept stochastic while scoring the pool (MC dropout); BatchNorm uses
its running statistics during scoring.
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, Subset

from audio_al.data import LogMelClips

SETTINGS = {"rounds": 10, "query": 50, "mc_samples": 20, "epochs": 30, "seed_size": 100}


class EventCNN(nn.Module):
    def __init__(self, n_classes=50, p=0.5):
        super().__init__()
        chans = [1, 32, 64, 128, 256]
        self.convs = nn.Sequential(*[
            nn.Sequential(nn.Conv2d(a, b, 3, padding=1), nn.BatchNorm2d(b), nn.ReLU(), nn.MaxPool2d(2))
            for a, b in zip(chans[:-1], chans[1:])])
        self.drop1 = nn.Dropout(p)
        self.fc1 = nn.Linear(256, 128)
        self.drop2 = nn.Dropout(p)
        self.fc2 = nn.Linear(128, n_classes)

    def forward(self, x):
        h = self.convs(x).amax(dim=(2, 3))
        return self.fc2(self.drop2(F.relu(self.fc1(self.drop1(h)))))


def enable_mc_dropout(net):
    """Eval mode everywhere except the dropout layers (MC dropout)."""
    net.eval()
    for m in net.modules():
        if isinstance(m, nn.Dropout):
            m.train()


def bald_scores(net, loader, T, device):
    enable_mc_dropout(net)
    scores = []
    with torch.no_grad():
        for x, _ in loader:
            x = x.to(device)
            probs = torch.stack([F.softmax(net(x), dim=1) for _ in range(T)])  # T x B x C
            mean = probs.mean(0)
            entropy = -(mean * torch.log(mean + 1e-10)).sum(1)
            expected = -(probs * torch.log(probs + 1e-10)).sum(2).mean(0)
            scores.append((entropy - expected).cpu())
    return torch.cat(scores).numpy()


def fit(net, loader, epochs, device):
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, weight_decay=1e-4)
    for _ in range(epochs):
        net.train()
        for x, y in loader:
            loss = F.cross_entropy(net(x.to(device)), y.to(device))
            opt.zero_grad()
            loss.backward()
            opt.step()


def accuracy(net, loader, device):
    net.eval()
    hit = n = 0
    with torch.no_grad():
        for x, y in loader:
            hit += (net(x.to(device)).argmax(1).cpu() == y).sum().item()
            n += len(y)
    return hit / n


def run(device="cuda"):
    rng = np.random.default_rng(7)
    pool = LogMelClips("/data/esc50", folds=[1, 2, 3, 4])
    test = DataLoader(LogMelClips("/data/esc50", folds=[5]), batch_size=64)
    labeled = rng.choice(len(pool), SETTINGS["seed_size"], replace=False).tolist()
    for rnd in range(SETTINGS["rounds"]):
        net = EventCNN().to(device)  # retrain from scratch every round
        fit(net, DataLoader(Subset(pool, labeled), batch_size=32, shuffle=True), SETTINGS["epochs"], device)
        acc = accuracy(net, test, device)

        rest = np.setdiff1d(np.arange(len(pool)), labeled)
        scores = bald_scores(net, DataLoader(Subset(pool, rest), batch_size=128), SETTINGS["mc_samples"], device)
        labeled += rest[np.argsort(-scores)[:SETTINGS["query"]]].tolist()
        print(f"round {rnd}: {len(labeled)} labeled, test acc {acc:.3f}, max BALD {scores.max():.3f}")


if __name__ == "__main__":
    run()
