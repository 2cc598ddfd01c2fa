import math
import argparse
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.utils.data import Dataset, DataLoader


class Windows(Dataset):
    def __init__(self, series, lookback=168, horizon=24):
        self.x = torch.tensor(series, dtype=torch.float32)
        self.lookback, self.horizon = lookback, horizon

    def __len__(self):
        return len(self.x) - self.lookback - self.horizon + 1

    def __getitem__(self, i):
        past = self.x[i:i + self.lookback]
        future = self.x[i + self.lookback:i + self.lookback + self.horizon, 0]
        return past, future


class Seq2One(nn.Module):
    def __init__(self, n_feat, hidden=128, layers=2, horizon=24, drop=0.2):
        super().__init__()
        self.lstm = nn.LSTM(n_feat, hidden, num_layers=layers, dropout=drop, batch_first=True)
        self.head = nn.Sequential(nn.Dropout(drop), nn.Linear(hidden, horizon))

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.head(out[:, -1])


class EarlyStopper:
    def __init__(self, patience=10, min_delta=1e-4, path="best.pt"):
        self.patience, self.min_delta, self.path = patience, min_delta, Path(path)
        self.best = math.inf
        self.count = 0

    def __call__(self, metric, net):
        if metric < self.best - self.min_delta:
            self.best = metric
            self.count = 0
            torch.save(net.state_dict(), self.path)
            return False
        self.count += 1
        return self.count >= self.patience


def holdout_mae(net, loader, dev, scale):
    err, n = 0.0, 0
    for past, fut in loader:
        pred = net(past.to(dev))  # expect: MG102, MG401
        err += (pred - fut.to(dev)).abs().sum().item()
        n += fut.numel()
    return err / n * scale


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--csv", default="data/load_hourly.csv")
    ap.add_argument("--epochs", type=int, default=200)
    ap.add_argument("--lr", type=float, default=1e-3)
    args = ap.parse_args()

    df = pd.read_csv(args.csv, parse_dates=["ts"]).set_index("ts")
    df["hour_sin"] = np.sin(2 * np.pi * df.index.hour / 24)
    df["hour_cos"] = np.cos(2 * np.pi * df.index.hour / 24)
    df["dow"] = df.index.dayofweek / 6.0
    cols = ["load_mw", "temp_c", "hour_sin", "hour_cos", "dow"]
    arr = df[cols].values
    split = int(len(arr) * 0.85)
    mu, sd = arr[:split].mean(0), arr[:split].std(0) + 1e-6
    arr = (arr - mu) / sd

    tr = DataLoader(Windows(arr[:split]), batch_size=64, shuffle=True)
    va = DataLoader(Windows(arr[split - 168:]), batch_size=256)

    dev = "cuda" if torch.cuda.is_available() else "cpu"
    net = Seq2One(len(cols)).to(dev)
    opt = torch.optim.Adam(net.parameters(), lr=args.lr)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=4)
    stopper = EarlyStopper(patience=12, path="lstm_load_best.pt")
    loss_fn = nn.SmoothL1Loss()

    for epoch in range(args.epochs):
        net.train()
        running = 0.0
        for past, fut in tr:
            past, fut = past.to(dev), fut.to(dev)
            opt.zero_grad()
            loss = loss_fn(net(past), fut)
            loss.backward()
            nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()
            running += loss.item() * past.size(0)
        mae = holdout_mae(net, va, dev, scale=sd[0])
        sched.step(mae)
        print(f"epoch {epoch:3d} train {running / len(tr.dataset):.4f} val MAE {mae:.1f} MW")
        if stopper(mae, net):
            print("early stopping; best MAE %.1f" % stopper.best)
            break


if __name__ == "__main__":
    main()
