"""Residual MLP regression on a tabular house-price data set.

Derived features are given as pandas expressions in the config file, e.g.

    features: ["age = year_sold - year_built", "rooms_per_area = rooms / area"]
    target_transform: "np.log1p(y)"
"""
import argparse
import ast

import numpy as np
import pandas as pd
import torch
import torch.nn as nn
import yaml


class ResidualBlock(nn.Module):
    def __init__(self, dim, expansion=2):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, dim * expansion)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(dim * expansion, dim)

    def forward(self, x):
        return x + self.fc2(self.act(self.fc1(self.norm(x))))


class TabularRegressor(nn.Module):
    def __init__(self, n_in, width, depth):
        super().__init__()
        self.inp = nn.Linear(n_in, width)
        self.blocks = nn.Sequential(*[ResidualBlock(width) for _ in range(depth)])
        self.out = nn.Sequential(nn.LayerNorm(width), nn.Linear(width, 1))

    def forward(self, x):
        return self.out(self.blocks(self.inp(x))).squeeze(-1)


def prepare(csv_path, cfg):
    df = pd.read_csv(csv_path)
    for expr in cfg.get("features", []):
        df = df.eval(expr)
    df = df.query(cfg.get("filter", "index == index"))
    y_fn = eval("lambda y: " + cfg.get("target_transform", "y"), {"np": np})
    y = y_fn(df.pop(cfg["target"]).to_numpy(dtype=np.float64))
    x = df.select_dtypes("number").fillna(0.0)
    mu, sd = x.mean(), x.std().replace(0, 1)
    x = ((x - mu) / sd).to_numpy(dtype=np.float32)
    return torch.from_numpy(x), torch.from_numpy(y.astype(np.float32))


def rmse(net, x, y, bs=4096):
    preds = []
    with torch.no_grad():
        for i in range(0, len(x), bs):
            preds.append(net(x[i:i + bs]))
    return torch.sqrt(((torch.cat(preds) - y) ** 2).mean()).item()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("csv")
    ap.add_argument("--config", default="configs/houses.yaml")
    ap.add_argument("--hidden", default="(256, 4)", help="(width, depth) as a python literal")
    ap.add_argument("--epochs", type=int, default=200)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    with open(args.config) as fh:
        cfg = yaml.safe_load(fh)
    torch.manual_seed(args.seed)
    x, y = prepare(args.csv, cfg)
    perm = torch.randperm(len(x))
    n_val = len(x) // 5
    val_idx, tr_idx = perm[:n_val], perm[n_val:]

    width, depth = ast.literal_eval(args.hidden)
    net = TabularRegressor(x.shape[1], width, depth)
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=10)

    best, best_state = float("inf"), None
    for epoch in range(args.epochs):
        order = tr_idx[torch.randperm(len(tr_idx))]
        for i in range(0, len(order), 512):
            idx = order[i:i + 512]
            loss = nn.functional.mse_loss(net(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        val = rmse(net, x[val_idx], y[val_idx])
        sched.step(val)
        if val < best:
            best, best_state = val, {k: v.clone() for k, v in net.state_dict().items()}
        if epoch % 10 == 0:
            print(f"epoch {epoch:4d} train_rmse {rmse(net, x[tr_idx], y[tr_idx]):.4f} val_rmse {val:.4f}")

    net.load_state_dict(best_state)
    print(f"best val rmse {best:.4f}")
    torch.save(net.state_dict(), "tabular_regressor.pt")


if __name__ == "__main__":
    main()
