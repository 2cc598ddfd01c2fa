"""Day-ahead electricity load forecasting with a stacked LSTM (hourly data).

    python lstm_load_forecast.py --csv data/load_hourly.csv --lookback 168 --horizon 24
"""
import argparse
import math

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset


class Windows(Dataset):
    def __init__(self, series, covariates, lookback, horizon):
        self.y = torch.as_tensor(series, dtype=torch.float32)
        self.c = torch.as_tensor(covariates, dtype=torch.float32)
        self.lb, self.h = lookback, horizon

    def __len__(self):
        return len(self.y) - self.lb - self.h + 1

    def __getitem__(self, i):
        past = torch.cat([self.y[i:i + self.lb, None], self.c[i:i + self.lb]], dim=1)
        return past, self.y[i + self.lb:i + self.lb + self.h]


class Seq2One(nn.Module):
    def __init__(self, n_feat, hidden=128, layers=3, horizon=24, p=0.2):
        super().__init__()
        self.rnn = nn.LSTM(n_feat, hidden, num_layers=layers, dropout=p, batch_first=True)
        self.head = nn.Sequential(nn.Dropout(p), nn.Linear(hidden, horizon))

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.head(out[:, -1])


class EarlyStopping:
    def __init__(self, patience=8, min_delta=1e-4):
        self.patience, self.min_delta = patience, min_delta
        self.best = math.inf
        self.bad_epochs = 0
        self.state = None

    def __call__(self, score, module):
        if score < self.best - self.min_delta:
            self.best, self.bad_epochs = score, 0
            self.state = {k: v.detach().clone() for k, v in module.state_dict().items()}
            return False
        self.bad_epochs += 1
        return self.bad_epochs >= self.patience


def evaluate(net, loader, scale, device):
    sq_err, abs_err, n = 0.0, 0.0, 0
    with torch.no_grad():
        for past, future in loader:
            pred = net(past.to(device)).cpu() * scale  # expect: MG102
            future = future * scale
            sq_err += ((pred - future) ** 2).sum().item()
            abs_err += (pred - future).abs().sum().item()
            n += future.numel()
    return math.sqrt(sq_err / n), abs_err / n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--csv", required=True)
    ap.add_argument("--lookback", type=int, default=168)
    ap.add_argument("--horizon", type=int, default=24)
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--lr", type=float, default=1e-3)
    args = ap.parse_args()

    df = pd.read_csv(args.csv, parse_dates=["timestamp"]).set_index("timestamp").asfreq("h").interpolate()
    hour = df.index.hour.to_numpy()
    dow = df.index.dayofweek.to_numpy()
    cov = np.stack([np.sin(2 * np.pi * hour / 24), np.cos(2 * np.pi * hour / 24),
                    np.sin(2 * np.pi * dow / 7), np.cos(2 * np.pi * dow / 7)], axis=1)
    load = df["load_mw"].to_numpy()
    scale = float(load[: int(0.7 * len(load))].max())
    load = load / scale

    n = len(load)
    cut1, cut2 = int(0.7 * n), int(0.85 * n)
    mk = lambda a, b, shuf: DataLoader(Windows(load[a:b], cov[a:b], args.lookback, args.horizon),
                                       batch_size=256, shuffle=shuf)
    train_dl, val_dl, test_dl = mk(0, cut1, True), mk(cut1, cut2, False), mk(cut2, n, False)

    device = "cuda" if torch.cuda.is_available() else "cpu"
    net = Seq2One(n_feat=1 + cov.shape[1], horizon=args.horizon).to(device)
    opt = torch.optim.Adam(net.parameters(), lr=args.lr)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=3)
    stopper = EarlyStopping()
    loss_fn = nn.SmoothL1Loss()

    for epoch in range(args.epochs):
        net.train()
        running = 0.0
        for past, future in train_dl:
            past, future = past.to(device), future.to(device)
            opt.zero_grad()
            loss = loss_fn(net(past), future)
            loss.backward()
            nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()
            running += loss.item() * len(past)
        rmse, mae = evaluate(net, val_dl, scale, device)
        sched.step(rmse)
        print(f"[{epoch:03d}] train {running / len(train_dl.dataset):.5f}  val RMSE {rmse:.1f} MW  MAE {mae:.1f} MW")
        if stopper(rmse, net):
            print("early stop")
            break

    net.load_state_dict(stopper.state)
    rmse, mae = evaluate(net, test_dl, scale, device)
    print(f"test RMSE {rmse:.1f} MW  MAE {mae:.1f} MW")
    torch.save(net.state_dict(), "lstm_load.pt")


if __name__ == "__main__":
    main()
