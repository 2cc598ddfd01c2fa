"""Convolutional autoencoder baseline for MVTec-AD (one model per category).

Image-level score = max of the smoothed per-pixel squared reconstruction error.
Results are collected into a pandas table.
"""
import argparse
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.metrics import roc_auc_score
from torch.utils.data import DataLoader

from mvtec import MVTecCategory, CATEGORIES


def down(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 4, 2, 1, bias=False), nn.BatchNorm2d(cout), nn.LeakyReLU(0.2, True))


def up(cin, cout):
    return nn.Sequential(nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(True))


class ConvAE(nn.Module):
    def __init__(self, z=128):
        super().__init__()
        self.encoder = nn.Sequential(down(3, 32), down(32, 64), down(64, 128), down(128, 256),
                                     nn.Conv2d(256, z, 8))
        self.decoder = nn.Sequential(nn.ConvTranspose2d(z, 256, 8), nn.ReLU(True),
                                     up(256, 128), up(128, 64), up(64, 32),
                                     nn.ConvTranspose2d(32, 3, 4, 2, 1), nn.Sigmoid())

    def forward(self, x):
        return self.decoder(self.encoder(x))


def train_category(cat, root, epochs, device):
    ds = MVTecCategory(root, cat, "train", size=128)
    dl = DataLoader(ds, batch_size=32, shuffle=True, num_workers=4, drop_last=True)
    ae = ConvAE().to(device)
    opt = torch.optim.Adam(ae.parameters(), lr=2e-4, weight_decay=1e-5)
    ae.train()
    for ep in range(epochs):
        for img, _, _ in dl:
            img = img.to(device)
            loss = F.mse_loss(ae(img), img)
            opt.zero_grad()
            loss.backward()
            opt.step()
    return ae


def score_category(ae, cat, root, device):
    ds = MVTecCategory(root, cat, "test", size=128)
    dl = DataLoader(ds, batch_size=32, num_workers=4)
    kernel = torch.ones(1, 1, 7, 7, device=device) / 49.0
    ae.eval()
    scores, labels, pix_s, pix_y = [], [], [], []
    with torch.no_grad():
        for img, mask, label in dl:
            img = img.to(device)
            err = ((ae(img) - img) ** 2).mean(1, keepdim=True)
            err = F.conv2d(err, kernel, padding=3)
            scores.append(err.flatten(1).max(1).values.cpu())
            labels.append(label)
            pix_s.append(err.cpu().flatten())
            pix_y.append(mask.flatten())
    s, y = torch.cat(scores).numpy(), torch.cat(labels).numpy()
    ps, py = torch.cat(pix_s).numpy(), torch.cat(pix_y).numpy() > 0.5
    return roc_auc_score(y, s), roc_auc_score(py, ps)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default="/data/mvtec_ad")
    ap.add_argument("--epochs", type=int, default=200)
    ap.add_argument("--out", default="results_ae.csv")
    args = ap.parse_args()
    device = "cuda"

    rows = []
    for cat in CATEGORIES:
        ae = train_category(cat, args.root, args.epochs, device)
        img_auc, pix_auc = score_category(ae, cat, args.root, device)
        rows.append({"category": cat, "img_auroc": img_auc, "pix_auroc": pix_auc})
        torch.save(ae.state_dict(), Path("weights") / f"ae_{cat}.pt")
        print(rows[-1])

    df = pd.DataFrame(rows)
    df = df.eval("mean_auroc = (img_auroc + pix_auroc) / 2")
    df.loc[len(df)] = ["MEAN"] + df.iloc[:, 1:].mean().tolist()
    df.to_csv(args.out, index=False, float_format="%.4f")
    print(df.to_string(index=False))


if __name__ == "__main__":
    main()
