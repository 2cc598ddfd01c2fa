"""5-fold CV of an MLP on the churn table; writes OOF predictions and fold AUCs."""
import argparse

import numpy as np
import pandas as pd
import torch
import torch.nn as nn
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import StandardScaler
from torch.utils.data import DataLoader, TensorDataset

NUMERIC = ["tenure", "monthly_charges", "total_charges", "charge_ratio", "n_services"]


def add_features(df):
    df = df.copy()
    df["total_charges"] = pd.to_numeric(df["total_charges"], errors="coerce").fillna(0.0)
    df = df.eval("charge_ratio = total_charges / (monthly_charges * (tenure + 1))")
    svc = [c for c in df.columns if c.startswith("svc_")]
    df["n_services"] = df[svc].sum(axis=1)
    return df


class ChurnMLP(nn.Module):
    def __init__(self, d_in, hidden=(256, 128), p=0.3):
        super().__init__()
        layers, d = [], d_in
        for h in hidden:
            layers += [nn.Linear(d, h), nn.BatchNorm1d(h), nn.SiLU(), nn.Dropout(p)]
            d = h
        layers.append(nn.Linear(d, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x).squeeze(-1)


def fold_auc(clf, xs, ys, device):
    clf.eval()  # expect: MG101
    with torch.no_grad():
        prob = torch.sigmoid(clf(torch.as_tensor(xs, device=device))).cpu().numpy()
    return roc_auc_score(ys, prob), prob


def run_fold(k, X_tr, y_tr, X_va, y_va, args, device):
    clf = ChurnMLP(X_tr.shape[1]).to(device)
    opt = torch.optim.AdamW(clf.parameters(), lr=args.lr, weight_decay=1e-4)
    lossf = nn.BCEWithLogitsLoss(pos_weight=torch.tensor((1 - y_tr.mean()) / y_tr.mean(), device=device))
    dl = DataLoader(TensorDataset(torch.as_tensor(X_tr), torch.as_tensor(y_tr)),
                    batch_size=args.bs, shuffle=True, drop_last=True)

    best_auc, best_prob, bad_epochs = 0.0, None, 0
    clf.train()
    for epoch in range(args.epochs):
        for xb, yb in dl:
            xb, yb = xb.to(device), yb.to(device)
            opt.zero_grad()
            lossf(clf(xb), yb).backward()
            opt.step()
        auc, prob = fold_auc(clf, X_va, y_va, device)
        if auc > best_auc:
            best_auc, best_prob, bad_epochs = auc, prob, 0
        else:
            bad_epochs += 1
            if bad_epochs >= args.patience:
                print(f"fold {k}: stop at epoch {epoch}")
                break
    return best_auc, best_prob


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--csv", default="data/churn.csv")
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--bs", type=int, default=512)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--patience", type=int, default=8)
    ap.add_argument("--folds", type=int, default=5)
    args = ap.parse_args()

    device = "cuda" if torch.cuda.is_available() else "cpu"
    df = add_features(pd.read_csv(args.csv))
    cats = pd.get_dummies(df[["contract", "payment_method"]]).astype(np.float32)
    X_all = np.hstack([df[NUMERIC].values.astype(np.float32), cats.values])
    y_all = (df["churn"] == "Yes").values.astype(np.float32)

    oof = np.zeros(len(df), dtype=np.float32)
    aucs = []
    skf = StratifiedKFold(n_splits=args.folds, shuffle=True, random_state=7)
    for k, (tr, va) in enumerate(skf.split(X_all, y_all)):
        scaler = StandardScaler().fit(X_all[tr])
        X_tr = scaler.transform(X_all[tr]).astype(np.float32)
        X_va = scaler.transform(X_all[va]).astype(np.float32)
        auc, prob = run_fold(k, X_tr, y_all[tr], X_va, y_all[va], args, device)
        oof[va] = prob
        aucs.append(auc)
        print(f"fold {k}: AUC {auc:.4f}")

    print(f"CV AUC {np.mean(aucs):.4f} +- {np.std(aucs):.4f}; OOF AUC {roc_auc_score(y_all, oof):.4f}")
    pd.DataFrame({"customer_id": df["customer_id"], "oof": oof}).to_csv("oof_mlp.csv", index=False)


if __name__ == "__main__":
    main()
