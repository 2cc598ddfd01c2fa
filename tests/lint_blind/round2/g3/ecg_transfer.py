# -*- coding: utf-8 -*-
"""
Transfer a 12-lead ECG ResNet trained on PTB-XL to a smaller hospital cohort.

Stage 1 (this script): keep the normalisation layers of the source model fixed
(source-domain statistics) and adapt the convolutions + the new classifier.
"""
import argparse
import os

import h5py
import numpy as np
import torch
import torch.nn as nn
from sklearn.metrics import f1_score, roc_auc_score
from torch.utils.data import DataLoader, Dataset


class ECGFile(Dataset):
    def __init__(self, h5_path, split):
        self.f = h5py.File(h5_path, "r")
        self.x = self.f[f"{split}/signals"]
        self.y = self.f[f"{split}/labels"][:]

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return torch.from_numpy(self.x[i].astype(np.float32)), torch.from_numpy(self.y[i].astype(np.float32))


class ResBlock1d(nn.Module):
    def __init__(self, cin, cout, stride, p=0.2):
        super().__init__()
        self.c1 = nn.Conv1d(cin, cout, 15, stride, 7, bias=False)
        self.b1 = nn.BatchNorm1d(cout)
        self.c2 = nn.Conv1d(cout, cout, 15, 1, 7, bias=False)
        self.b2 = nn.BatchNorm1d(cout)
        self.drop = nn.Dropout(p)
        self.skip = nn.Sequential() if stride == 1 and cin == cout else nn.Sequential(
            nn.MaxPool1d(stride, ceil_mode=True), nn.Conv1d(cin, cout, 1, bias=False))

    def forward(self, x):
        h = self.drop(torch.relu(self.b1(self.c1(x))))
        h = self.b2(self.c2(h))
        return torch.relu(h + self.skip(x))


class ECGResNet(nn.Module):
    def __init__(self, n_leads=12, n_out=5, widths=(64, 128, 196, 256, 320)):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv1d(n_leads, widths[0], 17, 1, 8, bias=False),
                                  nn.BatchNorm1d(widths[0]), nn.ReLU())
        blocks, c = [], widths[0]
        for w in widths[1:]:
            blocks.append(ResBlock1d(c, w, stride=4))
            c = w
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(c, n_out)

    def forward(self, x):
        return self.fc(self.blocks(self.stem(x)).mean(-1))


def fix_normalisation(net):
    for m in net.modules():
        if isinstance(m, nn.BatchNorm1d):
            for param in m.parameters():
                param.requires_grad = False  # expect: MG302


@torch.no_grad()
def predict(net, loader, device):
    net.eval()
    ys, ps = [], []
    for x, y in loader:
        ps.append(torch.sigmoid(net(x.to(device))).cpu())
        ys.append(y)
    return torch.cat(ys).numpy(), torch.cat(ps).numpy()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--h5", default="data/cohort.h5")
    ap.add_argument("--source", default="weights/ptbxl_resnet.pt")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--out", default="runs/transfer")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    dev = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")

    net = ECGResNet(n_out=71)
    net.load_state_dict(torch.load(args.source, map_location="cpu"))
    net.fc = nn.Linear(net.fc.in_features, 5)
    fix_normalisation(net)
    net.to(dev)

    tr = DataLoader(ECGFile(args.h5, "train"), batch_size=args.batch, shuffle=True, num_workers=4, drop_last=True)
    va = DataLoader(ECGFile(args.h5, "val"), batch_size=128, num_workers=4)
    params = [p for p in net.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=3e-4)
    crit = nn.BCEWithLogitsLoss()

    best = 0.0
    for ep in range(args.epochs):
        net.train()
        for x, y in tr:
            x, y = x.to(dev), y.to(dev)
            loss = crit(net(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        y_true, y_prob = predict(net, va, dev)
        auc = roc_auc_score(y_true, y_prob, average="macro")
        f1 = f1_score(y_true, y_prob > 0.5, average="macro", zero_division=0)
        print(f"ep {ep:02d} loss {loss.item():.4f} val macro-AUC {auc:.4f} F1 {f1:.4f}")
        if auc > best:
            best = auc
            torch.save(net.state_dict(), os.path.join(args.out, "best.pt"))


if __name__ == "__main__":
    main()
