"""Multi-label chest X-ray classification (CheXpert, 5 competition labels) at 512 px.

At 512x512 only 8 images fit per GPU, so BatchNorm statistics are frozen at their
ImageNet values and only the affine parameters are fine-tuned.
"""
import argparse
import os

import numpy as np
import torch
import torch.nn as nn
import torchvision
from sklearn.metrics import roc_auc_score
from torch.utils.data import DataLoader

from chexpert_data import CheXpertDataset, COMPETITION_TASKS


def freeze_bn_stats(module: nn.Module) -> int:
    n = 0
    for m in module.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.eval()  # expect: MG301
            n += 1
    return n


def build_model(num_classes, drop_rate):
    net = torchvision.models.densenet121(weights="IMAGENET1K_V1", drop_rate=drop_rate)
    net.classifier = nn.Linear(net.classifier.in_features, num_classes)
    return net


@torch.no_grad()
def evaluate(net, loader, device):
    net.eval()
    probs, labels = [], []
    for x, y in loader:
        probs.append(torch.sigmoid(net(x.to(device))).cpu())
        labels.append(y)
    p, y = torch.cat(probs).numpy(), torch.cat(labels).numpy()
    aucs = [roc_auc_score(y[:, i], p[:, i]) for i in range(y.shape[1])]
    return float(np.mean(aucs)), aucs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--bs", type=int, default=8)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--uncertain", default="ones", choices=["ones", "zeros", "ignore"])
    ap.add_argument("--out", default="runs/chexpert")
    args = ap.parse_args()

    device = torch.device("cuda")
    train_set = CheXpertDataset(args.root, "train", size=512, uncertain=args.uncertain, augment=True)
    val_set = CheXpertDataset(args.root, "valid", size=512)
    train_loader = DataLoader(train_set, args.bs, shuffle=True, num_workers=8, drop_last=True)
    val_loader = DataLoader(val_set, 32, num_workers=4)

    net = build_model(len(COMPETITION_TASKS), drop_rate=0.2).to(device)
    n_bn = freeze_bn_stats(net)
    print(f"froze running statistics of {n_bn} BatchNorm layers")

    opt = torch.optim.Adam(net.parameters(), lr=args.lr, betas=(0.9, 0.999))
    crit = nn.BCEWithLogitsLoss(reduction="none")
    os.makedirs(args.out, exist_ok=True)
    best = 0.0
    for epoch in range(args.epochs):
        net.train()
        for it, (x, y) in enumerate(train_loader):
            x, y = x.to(device), y.to(device)
            logits = net(x)
            mask = (y >= 0).float()  # -1 marks ignored uncertain labels
            loss = (crit(logits, y.clamp_min(0)) * mask).sum() / mask.sum().clamp_min(1)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if it % 200 == 0:
                print(f"epoch {epoch} it {it} loss {loss.item():.4f}")
        mean_auc, aucs = evaluate(net, val_loader, device)
        print(f"epoch {epoch}: mean AUC {mean_auc:.4f} | " +
              ", ".join(f"{t} {a:.3f}" for t, a in zip(COMPETITION_TASKS, aucs)))
        if mean_auc > best:
            best = mean_auc
            torch.save(net.state_dict(), os.path.join(args.out, "best.pth"))


if __name__ == "__main__":
    main()
