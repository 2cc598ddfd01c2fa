"""BALD active learning with Monte-Carlo dropout (Gal et al. 2017) on MNIST."""
import argparse

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, Subset
from torchvision import datasets, transforms


class BayesCNN(nn.Module):
    def __init__(self, p=0.5):
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(1, 32, 4), nn.ReLU(), nn.Conv2d(32, 32, 4), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.25))
        self.fc = nn.Sequential(nn.Flatten(), nn.Linear(32 * 11 * 11, 128), nn.ReLU(), nn.Dropout(p), nn.Linear(128, 10))

    def forward(self, x):
        return self.fc(self.conv(x))


def enable_mc_dropout(net):
    """Deterministic layers in eval mode, dropout layers sampling: MC dropout on purpose."""
    net.eval()
    for m in net.modules():
        if isinstance(m, nn.Dropout):
            m.train()


@torch.no_grad()
def mc_probs(net, loader, T, device):
    enable_mc_dropout(net)
    out = []
    for x, _ in loader:
        x = x.to(device)
        out.append(torch.stack([F.softmax(net(x), 1) for _ in range(T)], 0).cpu())
    return torch.cat(out, 1)  # T x N x C


def bald(probs):
    mean = probs.mean(0)
    entropy = -(mean * mean.clamp_min(1e-12).log()).sum(1)
    expected = -(probs * probs.clamp_min(1e-12).log()).sum(2).mean(0)
    return entropy - expected


@torch.no_grad()
def test_accuracy(net, loader, device):
    net.eval()
    correct = 0
    for x, y in loader:
        correct += (net(x.to(device)).argmax(1).cpu() == y).sum().item()
    return correct / len(loader.dataset)


def fit(labelled, device, epochs=50):
    net = BayesCNN().to(device)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, weight_decay=2.5 / len(labelled))
    loader = DataLoader(labelled, batch_size=64, shuffle=True)
    net.train()
    for _ in range(epochs):
        for x, y in loader:
            loss = F.cross_entropy(net(x.to(device)), y.to(device))
            opt.zero_grad()
            loss.backward()
            opt.step()
    return net


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=100)
    ap.add_argument("--acquire", type=int, default=10)
    ap.add_argument("--mc", type=int, default=20)
    args = ap.parse_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    train = datasets.MNIST("data", train=True, download=True, transform=tf)
    test_loader = DataLoader(datasets.MNIST("data", train=False, transform=tf), batch_size=1000)

    rng = np.random.default_rng(0)
    labelled = list(rng.choice(len(train), 20, replace=False))
    pool = list(set(range(len(train))) - set(labelled))
    for r in range(args.rounds):
        net = fit(Subset(train, labelled), device)
        acc = test_accuracy(net, test_loader, device)
        cand = rng.choice(pool, 2000, replace=False)
        scores = bald(mc_probs(net, DataLoader(Subset(train, cand), batch_size=500), args.mc, device))
        picked = cand[scores.topk(args.acquire).indices.numpy()]
        labelled += picked.tolist()
        pool = list(set(pool) - set(picked.tolist()))
        print(f"round {r}: {len(labelled)} labels, test acc {acc:.4f}")


if __name__ == "__main__":
    main()
