"""Day-ahead electricity load forecasting with a dilated temporal convolutional network.

Reads an hourly CSV (timestamp, load_mw, temperature, ...) and predicts the next 24 hours
from the previous 168.
"""
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
import torch.nn as nn
from torch.nn.utils import weight_norm
from torch.utils.data import DataLoader, Dataset


class Chomp1d(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.n = n

    def forward(self, x):
        return x[:, :, : -self.n].contiguous()


class TemporalBlock(nn.Module):
    def __init__(self, cin, cout, k, dilation, drop):
        super().__init__()
        pad = (k - 1) * dilation
        self.body = nn.Sequential(
            weight_norm(nn.Conv1d(cin, cout, k, padding=pad, dilation=dilation)),
            Chomp1d(pad), nn.ReLU(), nn.Dropout(drop),
            weight_norm(nn.Conv1d(cout, cout, k, padding=pad, dilation=dilation)),
            Chomp1d(pad), nn.ReLU(), nn.Dropout(drop),
        )
        self.skip = nn.Conv1d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x):
        return torch.relu(self.body(x) + self.skip(x))


class LoadTCN(nn.Module):
    def __init__(self, n_feat, horizon=24, chans=(32, 32, 64, 64), k=3, drop=0.2):
        super().__init__()
        blocks, cin = [], n_feat
        for i, c in enumerate(chans):
            blocks.append(TemporalBlock(cin, c, k, 2 ** i, drop))
            cin = c
        self.tcn = nn.Sequential(*blocks)
        self.head = nn.Linear(cin, horizon)

    def forward(self, x):  # x: (B, T, F)
        h = self.tcn(x.transpose(1, 2))
        return self.head(h[:, :, -1])


class Windows(Dataset):
    def __init__(self, arr, target_col, lookback=168, horizon=24):
        self.arr = torch.as_tensor(arr, dtype=torch.float32)
        self.t, self.lb, self.h = target_col, lookback, horizon

    def __len__(self):
        return len(self.arr) - self.lb - self.h + 1

    def __getitem__(self, i):
        x = self.arr[i : i + self.lb]
        y = self.arr[i + self.lb : i + self.lb + self.h, self.t]
        return x, y


@dataclass
class Cfg:
    steps: int = 20000
    eval_every: int = 500
    lr: float = 3e-4
    batch: int = 128
    clip: float = 1.0


class Forecaster:
    def __init__(self, cfg, train_arr, hold_arr, target_col, device="cuda"):
        self.cfg, self.dev = cfg, device
        self.net = LoadTCN(train_arr.shape[1]).to(device)
        self.loader = DataLoader(Windows(train_arr, target_col), batch_size=cfg.batch,
                                 shuffle=True, drop_last=True, num_workers=2)
        self.holdout = DataLoader(Windows(hold_arr, target_col), batch_size=512)
        self.opt = torch.optim.Adam(self.net.parameters(), lr=cfg.lr)
        self.crit = nn.SmoothL1Loss()
        self.log = []

    def _holdout_mape(self):
        self.net.eval()  # expect: MG101
        errs = []
        with torch.no_grad():
            for x, y in self.holdout:
                yhat = self.net(x.to(self.dev)).cpu()
                errs.append(((yhat - y).abs() / y.abs().clamp_min(1.0)).mean(1))
        return 100.0 * torch.cat(errs).mean().item()

    def fit(self):
        self.net.train()
        it = iter(self.loader)
        for step in range(1, self.cfg.steps + 1):
            try:
                x, y = next(it)
            except StopIteration:
                it = iter(self.loader)
                x, y = next(it)
            x, y = x.to(self.dev), y.to(self.dev)
            loss = self.crit(self.net(x), y)
            self.opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(self.net.parameters(), self.cfg.clip)
            self.opt.step()

            if step % self.cfg.eval_every == 0:
                mape = self._holdout_mape()
                self.log.append((step, loss.item(), mape))
                print(f"[{step:6d}] train {loss.item():.4f}  holdout MAPE {mape:.2f}%")
        return pd.DataFrame(self.log, columns=["step", "loss", "mape"])


if __name__ == "__main__":
    df = pd.read_csv("load_hourly.csv", parse_dates=["timestamp"]).set_index("timestamp")
    df["hour_sin"] = np.sin(2 * np.pi * df.index.hour / 24)
    df["hour_cos"] = np.cos(2 * np.pi * df.index.hour / 24)
    df = (df - df.mean()) / df.std()
    cut = int(0.85 * len(df))
    f = Forecaster(Cfg(), df.values[:cut], df.values[cut:], df.columns.get_loc("load_mw"))
    f.fit().to_csv("tcn_log.csv", index=False)
