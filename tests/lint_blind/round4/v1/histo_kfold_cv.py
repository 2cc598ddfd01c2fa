"""Patient-grouped k-fold cross-validation for histopathology tile classification.

Each fold trains a fresh network for a fixed schedule and is scored once at the end.
Per-fold confusion counts are summarised with pandas.
"""
import argparse
import ast
import os

import numpy as np
import pandas as pd
import timm
import torch
import torch.nn as nn
from sklearn.model_selection import GroupKFold
from torch.utils.data import DataLoader, Subset

from histo.data import TileDataset


def train_fold(net, loader, epochs, lr, device):
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-2)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs * len(loader))
    crit = nn.CrossEntropyLoss()
    for ep in range(epochs):
        net.train()
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            loss = crit(net(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        print(f"  epoch {ep + 1}/{epochs} last-batch loss {loss.item():.4f}")


def infer(net, loader, device):
    net.eval()
    out = []
    with torch.no_grad():
        for x, _ in loader:
            out.append(net(x.to(device)).softmax(1)[:, 1].cpu())
    return torch.cat(out).numpy()


def confusion_row(y, p, thr):
    pred = (p >= thr).astype(int)
    return dict(tp=int(((pred == 1) & (y == 1)).sum()), fp=int(((pred == 1) & (y == 0)).sum()),
                tn=int(((pred == 0) & (y == 0)).sum()), fn=int(((pred == 0) & (y == 1)).sum()))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--manifest", default="tiles.csv")
    ap.add_argument("--arch", default="resnet34")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--bs", type=int, default=128)
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--thresholds", default="[0.3, 0.5, 0.7]",
                    help="python literal list of decision thresholds")
    args = ap.parse_args()
    thresholds = ast.literal_eval(args.thresholds)
    device = "cuda" if torch.cuda.is_available() else "cpu"

    meta = pd.read_csv(args.manifest)
    ds_train = TileDataset(meta, augment=True)
    ds_eval = TileDataset(meta, augment=False)
    labels = meta["label"].to_numpy()
    oof = np.zeros(len(meta), dtype=np.float32)
    rows = []

    for fold, (tr, va) in enumerate(GroupKFold(args.folds).split(meta, labels, meta["patient"])):
        print(f"fold {fold}: {len(tr)} train / {len(va)} val tiles")
        net = timm.create_model(args.arch, pretrained=True, num_classes=2, drop_rate=0.25)
        net = net.to(device)
        tr_dl = DataLoader(Subset(ds_train, tr), args.bs, shuffle=True, num_workers=8,
                           drop_last=True)
        va_dl = DataLoader(Subset(ds_eval, va), args.bs * 2, num_workers=8)
        train_fold(net, tr_dl, args.epochs, args.lr, device)
        oof[va] = infer(net, va_dl, device)
        torch.save(net.state_dict(), f"{args.arch}_fold{fold}.pth")
        for thr in thresholds:
            rows.append(dict(fold=fold, thr=thr, **confusion_row(labels[va], oof[va], thr)))

    table = pd.DataFrame(rows)
    table.eval("sensitivity = tp / (tp + fn)", inplace=True)
    table.eval("specificity = tn / (tn + fp)", inplace=True)
    summary = table.groupby("thr")[["sensitivity", "specificity"]].agg(["mean", "std"])
    print(summary.round(4))
    meta.assign(oof_prob=oof).to_csv(os.path.splitext(args.manifest)[0] + "_oof.csv",
                                     index=False)


if __name__ == "__main__":
    main()
