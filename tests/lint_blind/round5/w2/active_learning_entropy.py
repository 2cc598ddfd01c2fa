"""Pool-based active learning with max-entropy acquisition for document-type classification
(invoice / receipt / letter / form ...) on page thumbnails."""
import argparse
import json

import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, Subset

from docs_al.data import ThumbnailDataset


class ThumbNet(nn.Module):
    def __init__(self, n_classes):
        super().__init__()
        def block(i, o):
            return nn.Sequential(nn.Conv2d(i, o, 3, padding=1), nn.BatchNorm2d(o), nn.ReLU(), nn.MaxPool2d(2))
        self.features = nn.Sequential(block(1, 32), block(32, 64), block(64, 128), nn.AdaptiveAvgPool2d(1))
        self.classifier = nn.Sequential(nn.Flatten(), nn.Dropout(0.3), nn.Linear(128, n_classes))

    def forward(self, x):
        return self.classifier(self.features(x))


def fit(net, loader, optimizer, epochs, device):
    crit = nn.CrossEntropyLoss()
    for _ in range(epochs):
        for x, y in loader:
            optimizer.zero_grad()
            crit(net(x.to(device)), y.to(device)).backward()
            optimizer.step()


def pool_entropy(net, loader, device):
    net.eval()  # expect: MG101
    ent = []
    with torch.no_grad():
        for x, _ in loader:
            p = torch.softmax(net(x.to(device)), dim=1)
            ent.append(-(p * torch.log(p + 1e-12)).sum(1).cpu())
    return torch.cat(ent).numpy()


def test_accuracy(net, loader, device):
    net.eval()
    correct = total = 0
    with torch.no_grad():
        for x, y in loader:
            correct += (net(x.to(device)).argmax(1).cpu() == y).sum().item()
            total += y.numel()
    return correct / total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="data/rvl_thumbs")
    ap.add_argument("--init", type=int, default=200)
    ap.add_argument("--budget", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--epochs-per-round", type=int, default=5)
    args = ap.parse_args()

    rng = np.random.default_rng(0)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    pool_ds = ThumbnailDataset(args.data, split="train")
    test_ds = ThumbnailDataset(args.data, split="test")
    labeled = list(rng.choice(len(pool_ds), args.init, replace=False))

    net = ThumbNet(pool_ds.num_classes).to(device)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    history = []
    net.train()
    for rnd in range(args.rounds):
        lab_loader = DataLoader(Subset(pool_ds, labeled), batch_size=32, shuffle=True)
        fit(net, lab_loader, optimizer, args.epochs_per_round, device)

        unlabeled = np.setdiff1d(np.arange(len(pool_ds)), labeled)
        un_loader = DataLoader(Subset(pool_ds, unlabeled), batch_size=256)
        scores = pool_entropy(net, un_loader, device)
        picked = unlabeled[np.argsort(-scores)[:args.budget]]
        labeled.extend(picked.tolist())
        history.append({"round": rnd, "n_labeled": len(labeled),
                        "mean_entropy": float(scores.mean())})
        print(history[-1])

    acc = test_accuracy(net, DataLoader(test_ds, batch_size=256), device)
    print(f"final test accuracy with {len(labeled)} labels: {acc:.4f}")
    with open("al_history.json", "w") as fh:
        json.dump({"rounds": history, "test_acc": acc}, fh, indent=1)


if __name__ == "__main__":
    main()
