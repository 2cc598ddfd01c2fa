"""Seq2seq LSTM downscaling of ERA5 reanalysis to station wind speed.

Trainer with periodic hold-out evaluation inside the epoch (the data set is large, one
epoch is ~40k steps), early stopping on hold-out RMSE and a cosine LR schedule.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn as nn
from torch.utils.data import DataLoader

from era5_data import ERA5StationWindows

logger = logging.getLogger(__name__)


class Seq2SeqLSTM(nn.Module):
    def __init__(self, n_in: int, n_out: int = 1, hidden: int = 256, layers: int = 3,
                 dropout: float = 0.25, horizon: int = 24):
        super().__init__()
        self.encoder = nn.LSTM(n_in, hidden, layers, batch_first=True, dropout=dropout)
        self.decoder = nn.LSTM(n_out, hidden, layers, batch_first=True, dropout=dropout)
        self.out = nn.Sequential(nn.Dropout(dropout), nn.Linear(hidden, n_out))
        self.horizon = horizon

    def forward(self, x: torch.Tensor, y_last: torch.Tensor) -> torch.Tensor:
        _, state = self.encoder(x)
        step = y_last[:, None, :]
        outs = []
        for _ in range(self.horizon):
            h, state = self.decoder(step, state)
            step = self.out(h)
            outs.append(step)
        return torch.cat(outs, dim=1)


@dataclass
class TrainConfig:
    lr: float = 5e-4
    max_steps: int = 200_000
    eval_every: int = 2_000
    patience: int = 10
    batch_size: int = 256
    out_dir: Path = field(default_factory=lambda: Path("runs/era5_lstm"))


class Trainer:
    def __init__(self, model: nn.Module, train_ds, val_ds, cfg: TrainConfig, device="cuda"):
        self.model = model.to(device)
        self.cfg = cfg
        self.device = device
        self.train_dl = DataLoader(train_ds, cfg.batch_size, shuffle=True, num_workers=8, drop_last=True)
        self.val_dl = DataLoader(val_ds, 1024, num_workers=4)
        self.opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=1e-4)
        self.sched = torch.optim.lr_scheduler.LambdaLR(
            self.opt, lambda s: 0.5 * (1 + math.cos(math.pi * min(s, cfg.max_steps) / cfg.max_steps)))
        self.best = float("inf")
        self.bad_evals = 0

    def holdout_rmse(self) -> float:
        was_training = self.model.training
        self.model.eval()
        se, n = 0.0, 0
        with torch.no_grad():
            for x, y_last, y in self.val_dl:
                pred = self.model(x.to(self.device), y_last.to(self.device))
                se += ((pred - y.to(self.device)) ** 2).sum().item()
                n += y.numel()
        self.model.train(was_training)
        return math.sqrt(se / n)

    def _step(self, batch) -> float:
        x, y_last, y = (t.to(self.device, non_blocking=True) for t in batch)
        loss = nn.functional.mse_loss(self.model(x, y_last), y)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.opt.step()
        self.sched.step()
        return loss.item()

    def fit(self) -> float:
        self.cfg.out_dir.mkdir(parents=True, exist_ok=True)
        self.model.train()
        step = 0
        while step < self.cfg.max_steps:
            for batch in self.train_dl:
                loss = self._step(batch)
                step += 1
                if step % self.cfg.eval_every == 0:
                    rmse = self.holdout_rmse()
                    logger.info("step %d loss %.4f holdout rmse %.4f", step, loss, rmse)
                    if rmse < self.best:
                        self.best, self.bad_evals = rmse, 0
                        torch.save(self.model.state_dict(), self.cfg.out_dir / "best.pt")
                    else:
                        self.bad_evals += 1
                        if self.bad_evals >= self.cfg.patience:
                            logger.info("early stop at step %d", step)
                            return self.best
                if step >= self.cfg.max_steps:
                    break
        return self.best


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    tr = ERA5StationWindows("data/era5_stations.zarr", split="train")
    va = ERA5StationWindows("data/era5_stations.zarr", split="val")
    net = Seq2SeqLSTM(n_in=tr.num_features)
    print("best holdout RMSE", Trainer(net, tr, va, TrainConfig()).fit())
