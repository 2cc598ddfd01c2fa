"""Stratified group k-fold for a 1D-CNN arrhythmia classifier; fold models are ensembled on the test set."""
import argparse
import json

import numpy as np
import pandas as pd
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedGroupKFold
from torch.utils.data import DataLoader, TensorDataset


def conv_bn(cin, cout, k, s=1):
    return nn.Sequential(nn.Conv1d(cin, cout, k, s, k // 2, bias=False), nn.BatchNorm1d(cout), nn.ReLU(inplace=True))


class ECGNet(nn.Module):
    def __init__(self, n_leads=12, n_classes=5):
        super().__init__()
        self.features = nn.Sequential(
            conv_bn(n_leads, 64, 15, 2), conv_bn(64, 64, 9), nn.MaxPool1d(2),
            conv_bn(64, 128, 9), conv_bn(128, 128, 9), nn.MaxPool1d(2),
            conv_bn(128, 256, 7), conv_bn(256, 256, 7), nn.AdaptiveAvgPool1d(1),
        )
        self.drop = nn.Dropout(0.4)
        self.fc = nn.Linear(256, n_classes)

    def forward(self, x):
        return self.fc(self.drop(self.features(x).squeeze(-1)))


def predict_proba(net, loader, device):
    net.eval()
    out = []
    for (x,) in loader:
        out.append(F.softmax(net(x.to(device)), dim=1).cpu())
    return torch.cat(out).numpy()


def train_fold(X_tr, y_tr, X_va, y_va, args, device):
    net = ECGNet(n_classes=args.n_classes).to(device)
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=1e-3)
    weights = torch.tensor(len(y_tr) / (args.n_classes * np.bincount(y_tr, minlength=args.n_classes)),
                           dtype=torch.float32, device=device)
    tr_dl = DataLoader(TensorDataset(torch.from_numpy(X_tr), torch.from_numpy(y_tr)),
                       batch_size=args.bs, shuffle=True, drop_last=True)
    va_dl = DataLoader(TensorDataset(torch.from_numpy(X_va)), batch_size=256)

    best_f1, best_state = -1.0, None
    for epoch in range(args.epochs):
        net.train()
        for x, y in tr_dl:
            loss = F.cross_entropy(net(x.to(device)), y.to(device), weight=weights)
            opt.zero_grad()
            loss.backward()
            opt.step()
        with torch.no_grad():
            proba = predict_proba(net, va_dl, device)
        f1 = f1_score(y_va, proba.argmax(1), average="macro")
        if f1 > best_f1:
            best_f1 = f1
            best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
    net.load_state_dict(best_state)
    return net, best_f1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--meta", default="data/ptbxl_meta.csv")
    ap.add_argument("--signals", default="data/ptbxl_500hz.npy")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--bs", type=int, default=64)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--n_classes", type=int, default=5)
    args = ap.parse_args()

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    meta = pd.read_csv(args.meta)
    meta = meta.eval("age_decade = age // 10")
    X = np.load(args.signals).astype(np.float32)
    test_mask = (meta["strat_fold"] == 10).values
    y = meta["label"].values.astype(np.int64)
    groups = meta["patient_id"].values

    X_dev, y_dev, g_dev = X[~test_mask], y[~test_mask], groups[~test_mask]
    test_dl = DataLoader(TensorDataset(torch.from_numpy(X[test_mask])), batch_size=256)

    cv = StratifiedGroupKFold(n_splits=args.folds, shuffle=True, random_state=0)
    fold_scores, test_proba = [], 0.0
    for k, (tr, va) in enumerate(cv.split(X_dev, y_dev, g_dev)):
        net, f1 = train_fold(X_dev[tr], y_dev[tr], X_dev[va], y_dev[va], args, device)
        fold_scores.append(f1)
        with torch.inference_mode():
            test_proba = test_proba + predict_proba(net, test_dl, device) / args.folds
        print(f"fold {k}: val macro-F1 {f1:.4f}")

    test_f1 = f1_score(y[test_mask], test_proba.argmax(1), average="macro")
    print(json.dumps({"cv_f1": float(np.mean(fold_scores)), "cv_std": float(np.std(fold_scores)),
                      "test_f1_ensemble": float(test_f1)}, indent=2))


if __name__ == "__main__":
    main()
