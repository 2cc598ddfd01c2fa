"""Chest X-ray fine-tuning: DenseNet-121 backbone, multi-label head, frozen BN affine."""
import argparse
import csv
import os

import numpy as np
import torch
import torch.nn as nn
from sklearn.metrics import roc_auc_score
from torch.utils.data import DataLoader

from cxr.data import CXRDataset, LABELS
from cxr.nets import densenet121_pretrained


def freeze_bn_affine(net):
    """Keep the pretrained BN scale/shift; small batches make them drift."""
    frozen = 0
    for mod in net.modules():
        if isinstance(mod, nn.BatchNorm2d):
            for prm in mod.parameters():
                prm.requires_grad = False  # expect: MG302
                frozen += 1
    return frozen


def per_label_auc(net, loader, device):
    net.eval()
    scores, truth = [], []
    for x, y in loader:
        logits = net(x.to(device))  # expect: MG401
        scores.append(torch.sigmoid(logits).detach().cpu().numpy())
        truth.append(y.numpy())
    scores, truth = np.concatenate(scores), np.concatenate(truth)
    aucs = {}
    for j, name in enumerate(LABELS):
        if truth[:, j].min() != truth[:, j].max():
            aucs[name] = roc_auc_score(truth[:, j], scores[:, j])
    return aucs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--csv-dir", required=True)
    ap.add_argument("--img-dir", required=True)
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--bs", type=int, default=16)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--save", default="ckpt/cxr.pt")
    args = ap.parse_args()
    device = torch.device("cuda:0")

    net = densenet121_pretrained(num_classes=len(LABELS))
    print(f"{freeze_bn_affine(net)} BN tensors frozen")
    net.to(device)

    train_ds = CXRDataset(os.path.join(args.csv_dir, "train.csv"), args.img_dir, train=True)
    test_ds = CXRDataset(os.path.join(args.csv_dir, "test.csv"), args.img_dir, train=False)
    train_dl = DataLoader(train_ds, batch_size=args.bs, shuffle=True, num_workers=6, drop_last=True)
    test_dl = DataLoader(test_ds, batch_size=64, num_workers=6)

    pos_weight = torch.as_tensor(train_ds.pos_weight(), device=device)
    criterion = nn.BCEWithLogitsLoss(pos_weight=pos_weight)
    opt = torch.optim.Adam((p for p in net.parameters() if p.requires_grad), lr=args.lr)

    for epoch in range(args.epochs):
        net.train()
        total, seen = 0.0, 0
        for x, y in train_dl:
            x, y = x.to(device), y.to(device).float()
            loss = criterion(net(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * x.size(0)
            seen += x.size(0)
        print(f"epoch {epoch}: train bce {total / seen:.4f}")

    os.makedirs(os.path.dirname(args.save), exist_ok=True)
    torch.save(net.state_dict(), args.save)

    aucs = per_label_auc(net, test_dl, device)
    with open(args.save.replace(".pt", "_auc.csv"), "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["label", "auc"])
        for k, v in aucs.items():
            w.writerow([k, f"{v:.4f}"])
    print("mean AUC", np.mean(list(aucs.values())))


if __name__ == "__main__":
    main()
