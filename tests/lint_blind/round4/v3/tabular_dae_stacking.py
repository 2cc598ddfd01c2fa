"""Denoising-autoencoder features + gradient boosting stack for a tabular competition.

Step 1 trains a swap-noise DAE on train+test rows (unsupervised), step 2 extracts
its bottleneck activations, step 3 fits LightGBM / logistic stack on them.
"""
import argparse
import json

import lightgbm as lgb
import numpy as np
import pandas as pd
import torch
import torch.nn as nn
from sklearn.ensemble import StackingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict


class SwapNoiseDAE(nn.Module):
    def __init__(self, n_in, hidden=1500, p=0.1):
        super().__init__()
        self.enc = nn.Sequential(nn.Linear(n_in, hidden), nn.BatchNorm1d(hidden), nn.ReLU(),
                                 nn.Dropout(p), nn.Linear(hidden, hidden), nn.ReLU())
        self.dec = nn.Linear(hidden, n_in)

    def forward(self, x):
        return self.dec(self.enc(x))


def swap_noise(x, rate=0.15):
    mask = torch.rand_like(x) < rate
    shuffled = x[torch.randint(0, x.size(0), x.shape, device=x.device), torch.arange(x.size(1), device=x.device)]
    return torch.where(mask, shuffled, x)


def train_dae(X, epochs=200, bs=512, device="cuda"):
    dae = SwapNoiseDAE(X.shape[1]).to(device)
    opt = torch.optim.Adam(dae.parameters(), lr=3e-4)
    Xt = torch.tensor(X, dtype=torch.float32, device=device)
    dae.train()
    for ep in range(epochs):
        perm = torch.randperm(len(Xt), device=device)
        for i in range(0, len(Xt) - bs + 1, bs):
            xb = Xt[perm[i:i + bs]]
            loss = nn.functional.mse_loss(dae(swap_noise(xb)), xb)
            opt.zero_grad()
            loss.backward()
            opt.step()
    return dae


@torch.no_grad()
def bottleneck(dae, X, device="cuda", bs=4096):
    dae.eval()
    Xt = torch.tensor(X, dtype=torch.float32)
    return np.concatenate([dae.enc(Xt[i:i + bs].to(device)).cpu().numpy() for i in range(0, len(Xt), bs)])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", default="train.csv")
    ap.add_argument("--test", default="test.csv")
    ap.add_argument("--features", default="features.json", help="derived-feature expressions")
    args = ap.parse_args()

    tr, te = pd.read_csv(args.train), pd.read_csv(args.test)
    with open(args.features) as fh:
        derived = json.load(fh)
    for name, expr in derived.items():
        tr[name] = tr.eval(expr)
        te[name] = te.eval(expr)
    tr = tr.query("amount > 0").reset_index(drop=True)
    lgb_params = eval(open("lgb_params.txt").read(), {"__builtins__": {}})

    feats = [c for c in tr.columns if c not in ("id", "target")]
    rank = lambda df: df[feats].rank(pct=True).values  # noqa: E731
    all_rows = np.vstack([rank(tr), rank(te)])
    dae = train_dae(all_rows)
    Z = bottleneck(dae, all_rows)
    Z_tr, Z_te = Z[: len(tr)], Z[len(tr):]

    stack = StackingClassifier(
        estimators=[("lgb", lgb.LGBMClassifier(**lgb_params)), ("lr", LogisticRegression(C=0.05, max_iter=3000))],
        final_estimator=LogisticRegression(), cv=5, n_jobs=-1)
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    oof = cross_val_predict(stack, Z_tr, tr["target"], cv=cv, method="predict_proba")[:, 1]
    print("OOF AUC", roc_auc_score(tr["target"], oof))
    stack.fit(Z_tr, tr["target"])
    pd.DataFrame({"id": te["id"], "target": stack.predict_proba(Z_te)[:, 1]}).to_csv("submission.csv", index=False)


if __name__ == "__main__":
    main()
