"""Transfer learning on a 10%-label EuroSAT split.

Normalisation layers of the pretrained trunk are kept as-is: their scale and shift are
excluded from optimisation so the small labelled set cannot drift them.
"""
import argparse
import random

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader
from torchvision.models import resnet18, ResNet18_Weights

from rs_data import EuroSATSplit


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)


def lock_norm_layers(trunk):
    locked = 0
    for name, mod in trunk.named_modules():
        if isinstance(mod, nn.BatchNorm2d):
            mod.requires_grad_(False)  # expect: MG302
            locked += 1
    return locked


def train_epoch(net, loader, opt, device, mixup_alpha=0.2):
    net.train()
    total = 0.0
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        lam = np.random.beta(mixup_alpha, mixup_alpha) if mixup_alpha > 0 else 1.0
        perm = torch.randperm(x.size(0), device=device)
        x_mix = lam * x + (1 - lam) * x[perm]
        logits = net(x_mix)
        loss = lam * F.cross_entropy(logits, y) + (1 - lam) * F.cross_entropy(logits, y[perm])
        opt.zero_grad()
        loss.backward()
        opt.step()
        total += loss.item()
    return total / len(loader)


@torch.no_grad()
def accuracy(net, loader, device):
    net.eval()
    hit = cnt = 0
    for x, y in loader:
        pred = net(x.to(device)).argmax(1).cpu()
        hit += (pred == y).sum().item()
        cnt += y.numel()
    return hit / cnt


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default="data/EuroSAT")
    ap.add_argument("--label-frac", type=float, default=0.1)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--bs", type=int, default=64)
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    seed_everything(args.seed)
    device = "cuda" if torch.cuda.is_available() else "cpu"

    train_ds = EuroSATSplit(args.root, "train", label_fraction=args.label_frac, seed=args.seed)
    test_ds = EuroSATSplit(args.root, "test")
    train_dl = DataLoader(train_ds, args.bs, shuffle=True, num_workers=4, drop_last=True)
    test_dl = DataLoader(test_ds, 256, num_workers=4)

    net = resnet18(weights=ResNet18_Weights.IMAGENET1K_V1)
    net.fc = nn.Linear(net.fc.in_features, 10)
    print("locked", lock_norm_layers(net), "norm layers")
    net = net.to(device)

    params = [p for p in net.parameters() if p.requires_grad]
    opt = torch.optim.SGD(params, lr=args.lr, momentum=0.9, weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, args.epochs)

    for ep in range(args.epochs):
        loss = train_epoch(net, train_dl, opt, device)
        sched.step()
        if (ep + 1) % 5 == 0:
            print(f"ep {ep + 1}: loss {loss:.3f}  test acc {accuracy(net, test_dl, device):.4f}")
    torch.save(net.state_dict(), f"eurosat_r18_{int(args.label_frac * 100)}pct.pth")


if __name__ == "__main__":
    main()
