"""Minimal callback-driven trainer used by the tabular/vision baselines.

Usage:
    python callbacks_trainer.py --config configs/base.yaml
"""
import argparse
import logging
import time

import torch
import torch.nn as nn
import yaml

from mylib.models import build_model
from mylib.data import build_loaders

log = logging.getLogger("trainer")


class Callback:
    def on_fit_start(self, trainer): pass
    def on_epoch_begin(self, trainer): pass
    def on_step_end(self, trainer): pass
    def on_epoch_end(self, trainer): pass


class ThroughputMeter(Callback):
    def on_epoch_begin(self, trainer):
        self._t0 = time.time()
        self._seen = 0

    def on_step_end(self, trainer):
        self._seen += trainer.last_batch_size

    def on_epoch_end(self, trainer):
        dt = max(time.time() - self._t0, 1e-6)
        log.info("epoch %d: %.1f samples/s", trainer.epoch, self._seen / dt)


class PeriodicEval(Callback):
    """Scores the model on the held-out split every `every` optimisation steps."""

    def __init__(self, loader, every=500):
        self.loader = loader
        self.every = every
        self.history = []

    def on_step_end(self, trainer):
        if trainer.global_step % self.every:
            return
        net = trainer.model
        net.eval()  # expect: MG101
        hits, count = 0, 0
        with torch.no_grad():
            for xb, yb in self.loader:
                xb, yb = xb.to(trainer.device), yb.to(trainer.device)
                pred = net(xb).argmax(-1)
                hits += (pred == yb).sum().item()
                count += yb.numel()
        acc = hits / max(count, 1)
        self.history.append((trainer.global_step, acc))
        log.info("step %d  held-out acc %.4f", trainer.global_step, acc)


class Trainer:
    def __init__(self, model, optimizer, device, callbacks=(), max_epochs=10, clip=1.0):
        self.model = model.to(device)
        self.optimizer = optimizer
        self.device = device
        self.callbacks = list(callbacks)
        self.max_epochs = max_epochs
        self.clip = clip
        self.criterion = nn.CrossEntropyLoss()
        self.global_step = 0
        self.epoch = 0
        self.last_batch_size = 0

    def _fire(self, hook):
        for cb in self.callbacks:
            getattr(cb, hook)(self)

    def fit(self, train_loader):
        self._fire("on_fit_start")
        for self.epoch in range(self.max_epochs):
            self.model.train()
            self._fire("on_epoch_begin")
            for xb, yb in train_loader:
                xb, yb = xb.to(self.device), yb.to(self.device)
                loss = self.criterion(self.model(xb), yb)
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                nn.utils.clip_grad_norm_(self.model.parameters(), self.clip)
                self.optimizer.step()
                self.global_step += 1
                self.last_batch_size = xb.size(0)
                self._fire("on_step_end")
            self._fire("on_epoch_end")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True)
    ap.add_argument("--device", default="cuda")
    args = ap.parse_args()
    with open(args.config) as fh:
        cfg = yaml.safe_load(fh)

    train_loader, val_loader = build_loaders(cfg["data"])
    model = build_model(cfg["model"])
    opt = torch.optim.AdamW(model.parameters(), lr=cfg["lr"], weight_decay=cfg.get("wd", 0.05))
    cbs = [ThroughputMeter(), PeriodicEval(val_loader, every=cfg.get("eval_every", 500))]
    Trainer(model, opt, args.device, cbs, max_epochs=cfg["epochs"]).fit(train_loader)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    main()
