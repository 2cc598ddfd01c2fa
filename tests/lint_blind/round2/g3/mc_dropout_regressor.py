"""Predictive uncertainty for house-price regression with MC dropout.

Train a heteroscedastic MLP, then draw T stochastic forward passes at test time
with only the dropout layers active (BatchNorm stays in inference mode).
"""
import argparse

import numpy as np
import pandas as pd
import torch
import torch.nn as nn
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import OneHotEncoder, StandardScaler


class HeteroMLP(nn.Module):
    def __init__(self, d_in, width=256, p=0.1):
        super().__init__()
        self.trunk = nn.Sequential(
            nn.Linear(d_in, width), nn.BatchNorm1d(width), nn.ReLU(), nn.Dropout(p),
            nn.Linear(width, width), nn.BatchNorm1d(width), nn.ReLU(), nn.Dropout(p),
        )
        self.mu = nn.Linear(width, 1)
        self.log_var = nn.Linear(width, 1)

    def forward(self, x):
        h = self.trunk(x)
        return self.mu(h).squeeze(-1), self.log_var(h).squeeze(-1).clamp(-10, 10)


def gaussian_nll(mu, log_var, y):
    return 0.5 * (log_var + (y - mu) ** 2 / log_var.exp()).mean()


def activate_dropout_only(net: nn.Module) -> None:
    net.eval()
    for m in net.modules():
        if isinstance(m, nn.Dropout):
            m.train()


@torch.no_grad()
def mc_predict(net, x, samples=50):
    activate_dropout_only(net)
    mus, variances = [], []
    for _ in range(samples):
        mu, log_var = net(x)
        mus.append(mu)
        variances.append(log_var.exp())
    mus = torch.stack(mus)
    aleatoric = torch.stack(variances).mean(0)
    epistemic = mus.var(0)
    return mus.mean(0), aleatoric, epistemic


@torch.no_grad()
def point_rmse(net, x, y):
    net.eval()
    mu, _ = net(x)
    return torch.sqrt(((mu - y) ** 2).mean()).item()


def prepare(csv_path):
    df = pd.read_csv(csv_path)
    y = np.log1p(df.pop("SalePrice").to_numpy())
    cats = df.select_dtypes("object").fillna("NA")
    nums = df.select_dtypes("number").fillna(df.select_dtypes("number").median())
    X = np.hstack([StandardScaler().fit_transform(nums),
                   OneHotEncoder(handle_unknown="ignore", sparse_output=False).fit_transform(cats)])
    return X.astype(np.float32), y.astype(np.float32)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("csv")
    ap.add_argument("--epochs", type=int, default=300)
    ap.add_argument("--samples", type=int, default=100)
    args = ap.parse_args()

    X, y = prepare(args.csv)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.2, random_state=1)
    Xtr, Xte, ytr, yte = map(torch.from_numpy, (Xtr, Xte, ytr, yte))

    net = HeteroMLP(X.shape[1])
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, weight_decay=1e-4)
    for epoch in range(args.epochs):
        net.train()
        perm = torch.randperm(len(Xtr))
        for i in range(0, len(perm) - 1, 64):
            idx = perm[i:i + 64]
            mu, log_var = net(Xtr[idx])
            loss = gaussian_nll(mu, log_var, ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        if epoch % 50 == 0:
            print(f"epoch {epoch}: test RMSE(log) {point_rmse(net, Xte, yte):.4f}")

    mean, alea, epi = mc_predict(net, Xte, args.samples)
    total_sd = (alea + epi).sqrt()
    inside = ((yte - mean).abs() < 1.96 * total_sd).float().mean().item()
    print(f"MC RMSE {torch.sqrt(((mean - yte) ** 2).mean()):.4f}  95% interval coverage {inside:.3f}")
    print(f"mean aleatoric sd {alea.sqrt().mean():.4f}, mean epistemic sd {epi.sqrt().mean():.4f}")


if __name__ == "__main__":
    main()
