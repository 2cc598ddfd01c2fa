"""Temporal convolutional network for multi-step traffic-speed forecasting.

Usage:
    python tcn_forecast_earlystop.py --data data/pems_speed.parquet --out runs/tcn
"""
import argparse
import copy
import os

import numpy as np
import pandas as pd
import torch
import torch.nn as nn
from torch.nn.utils.parametrizations import weight_norm


class Chomp(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.n = n

    def forward(self, x):
        return x[..., :-self.n].contiguous() if self.n else x


class TemporalBlock(nn.Module):
    def __init__(self, cin, cout, k, dilation, p):
        super().__init__()
        pad = (k - 1) * dilation
        self.net = nn.Sequential(
            weight_norm(nn.Conv1d(cin, cout, k, padding=pad, dilation=dilation)), Chomp(pad), nn.ReLU(), nn.Dropout(p),
            weight_norm(nn.Conv1d(cout, cout, k, padding=pad, dilation=dilation)), Chomp(pad), nn.ReLU(), nn.Dropout(p),
        )
        self.down = nn.Conv1d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x):
        return torch.relu(self.net(x) + self.down(x))


class TCN(nn.Module):
    def __init__(self, n_in, horizon, channels=(64, 64, 64, 64), k=3, p=0.2):
        super().__init__()
        blocks, c = [], n_in
        for i, ch in enumerate(channels):
            blocks.append(TemporalBlock(c, ch, k, 2 ** i, p))
            c = ch
        self.tcn = nn.Sequential(*blocks)
        self.proj = nn.Linear(c, horizon)

    def forward(self, x):  # (B, T, F)
        return self.proj(self.tcn(x.transpose(1, 2))[..., -1])


def make_windows(arr, target_col, lookback, horizon):
    xs, ys = [], []
    for s in range(len(arr) - lookback - horizon + 1):
        xs.append(arr[s:s + lookback])
        ys.append(arr[s + lookback:s + lookback + horizon, target_col])
    return torch.tensor(np.stack(xs), dtype=torch.float32), torch.tensor(np.stack(ys), dtype=torch.float32)


def train_one_epoch(net, X, Y, opt, bs, device):
    net.train()
    perm = torch.randperm(len(X))
    tot = 0.0
    for s in range(0, len(X), bs):
        idx = perm[s:s + bs]
        xb, yb = X[idx].to(device), Y[idx].to(device)
        loss = nn.functional.l1_loss(net(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        tot += loss.item() * len(idx)
    return tot / len(X)


@torch.inference_mode()
def mae(net, X, Y, device, bs=1024):
    net.eval()
    err = sum((net(X[s:s + bs].to(device)).cpu() - Y[s:s + bs]).abs().sum().item() for s in range(0, len(X), bs))
    return err / Y.numel()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--lookback", type=int, default=144)
    ap.add_argument("--horizon", type=int, default=12)
    ap.add_argument("--patience", type=int, default=10)
    ap.add_argument("--max-epochs", type=int, default=200)
    ap.add_argument("--out", default="runs/tcn")
    args = ap.parse_args()

    frame = pd.read_parquet(args.data).sort_values("ts")
    frame = frame.eval("flow_proxy = speed * occupancy").fillna(0.0)
    frame["tod"] = (pd.to_datetime(frame["ts"]).dt.hour * 60 + pd.to_datetime(frame["ts"]).dt.minute) / 1440.0
    cols = ["speed", "flow_proxy", "occupancy", "tod"]
    arr = frame[cols].to_numpy(np.float32)
    n = len(arr)
    tr_end, va_end = int(0.7 * n), int(0.8 * n)
    mu, sd = arr[:tr_end].mean(0), arr[:tr_end].std(0) + 1e-6
    arr = (arr - mu) / sd

    Xtr, Ytr = make_windows(arr[:tr_end], 0, args.lookback, args.horizon)
    Xva, Yva = make_windows(arr[tr_end:va_end], 0, args.lookback, args.horizon)
    Xte, Yte = make_windows(arr[va_end:], 0, args.lookback, args.horizon)

    device = "cuda" if torch.cuda.is_available() else "cpu"
    net = TCN(len(cols), args.horizon).to(device)
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)

    best, best_state, stale = float("inf"), None, 0
    for epoch in range(args.max_epochs):
        tr_loss = train_one_epoch(net, Xtr, Ytr, opt, 64, device)
        va_mae = mae(net, Xva, Yva, device)
        print(f"epoch {epoch:3d}  train L1 {tr_loss:.4f}  val MAE {va_mae * sd[0]:.3f} km/h")
        if va_mae < best - 1e-5:
            best, best_state, stale = va_mae, copy.deepcopy(net.state_dict()), 0
        else:
            stale += 1
            if stale > args.patience:
                print("no improvement for %d epochs, stopping" % args.patience)
                break

    net.load_state_dict(best_state)
    print(f"test MAE {mae(net, Xte, Yte, device) * sd[0]:.3f} km/h")
    os.makedirs(args.out, exist_ok=True)
    torch.save({"state": best_state, "mu": mu, "sd": sd, "cols": cols}, os.path.join(args.out, "tcn.pt"))


if __name__ == "__main__":
    main()
