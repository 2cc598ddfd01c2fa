#!/usr/bin/env python
"""5-fold CV of an MLP on the credit-default tabular data, with OOF predictions.

Evaluates on the held-out fold every ``--eval-every`` optimisation steps so the
best checkpoint can be picked at step granularity.
"""
import argparse
import copy
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
import torch.nn as nn
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import QuantileTransformer
from torch.utils.data import DataLoader, TensorDataset


@dataclass
class Cfg:
    epochs: int = 30
    batch_size: int = 512
    lr: float = 2e-3
    weight_decay: float = 1e-5
    eval_every: int = 200
    hidden: int = 512
    dropout: float = 0.25
    seed: int = 42


class TabMLP(nn.Module):
    def __init__(self, n_in, hidden, dropout):
        super().__init__()

        def unit(i, o):
            return nn.Sequential(nn.Linear(i, o), nn.BatchNorm1d(o), nn.SiLU(), nn.Dropout(dropout))

        self.body = nn.Sequential(unit(n_in, hidden), unit(hidden, hidden), unit(hidden, hidden // 2))
        self.out = nn.Linear(hidden // 2, 1)

    def forward(self, x):
        return self.out(self.body(x)).squeeze(-1)


class FoldRunner:
    def __init__(self, net, cfg, device):
        self.net = net.to(device)
        self.cfg = cfg
        self.device = device
        self.opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        self.crit = nn.BCEWithLogitsLoss()
        self.step = 0
        self.best_auc, self.best_state = -1.0, None

    def _predict(self, loader):
        self.net.eval()  # expect: MG101
        out = []
        with torch.no_grad():
            for (xb,) in loader:
                out.append(torch.sigmoid(self.net(xb.to(self.device))).cpu())
        return torch.cat(out).numpy()

    def _maybe_checkpoint(self, loader, y_valid):
        auc = roc_auc_score(y_valid, self._predict(loader))
        if auc > self.best_auc:
            self.best_auc = auc
            self.best_state = copy.deepcopy(self.net.state_dict())
        return auc

    def fit(self, train_loader, valid_loader, y_valid):
        for epoch in range(self.cfg.epochs):
            self.net.train()
            for xb, yb in train_loader:
                xb, yb = xb.to(self.device), yb.to(self.device)
                loss = self.crit(self.net(xb), yb)
                self.opt.zero_grad()
                loss.backward()
                self.opt.step()
                self.step += 1
                if self.step % self.cfg.eval_every == 0:
                    auc = self._maybe_checkpoint(valid_loader, y_valid)
                    print(f"  step {self.step} loss {loss.item():.4f} valid auc {auc:.4f}")
        self.net.load_state_dict(self.best_state)
        return self.best_auc


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("csv")
    ap.add_argument("--target", default="default_next_month")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--eval-every", type=int, default=200)
    args = ap.parse_args()
    cfg = Cfg(eval_every=args.eval_every)

    torch.manual_seed(cfg.seed)
    df = pd.read_csv(args.csv)
    y = df.pop(args.target).to_numpy().astype(np.float32)
    X = df.select_dtypes("number").fillna(0).to_numpy()
    device = "cuda" if torch.cuda.is_available() else "cpu"

    oof = np.zeros(len(y), dtype=np.float32)
    skf = StratifiedKFold(n_splits=args.folds, shuffle=True, random_state=cfg.seed)
    for fold, (tr_idx, va_idx) in enumerate(skf.split(X, y)):
        qt = QuantileTransformer(output_distribution="normal", random_state=cfg.seed)
        xtr = torch.tensor(qt.fit_transform(X[tr_idx]), dtype=torch.float32)
        xva = torch.tensor(qt.transform(X[va_idx]), dtype=torch.float32)
        train_loader = DataLoader(TensorDataset(xtr, torch.tensor(y[tr_idx])), batch_size=cfg.batch_size,
                                  shuffle=True, drop_last=True)
        valid_loader = DataLoader(TensorDataset(xva), batch_size=4096)

        runner = FoldRunner(TabMLP(X.shape[1], cfg.hidden, cfg.dropout), cfg, device)
        auc = runner.fit(train_loader, valid_loader, y[va_idx])
        oof[va_idx] = runner._predict(valid_loader)
        print(f"fold {fold}: best auc {auc:.4f}")

    print("OOF AUC:", roc_auc_score(y, oof))
    np.save("oof_mlp.npy", oof)


if __name__ == "__main__":
    main()
