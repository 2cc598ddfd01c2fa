"""A Keras-like fit() for PyTorch models with early stopping / best-checkpoint callbacks."""
import copy
import math
from collections import defaultdict

import torch
import torch.nn as nn


class Callback:
    def on_train_begin(self, fit): pass
    def on_epoch_end(self, fit, epoch, logs): pass
    def on_train_end(self, fit): pass


class EarlyStopping(Callback):
    def __init__(self, monitor="val_loss", patience=10, min_delta=0.0, mode="min", restore_best=True):
        self.monitor, self.patience, self.min_delta = monitor, patience, min_delta
        self.sign = 1 if mode == "min" else -1
        self.restore_best = restore_best

    def on_train_begin(self, fit):
        self.best, self.wait, self.best_state = math.inf, 0, None

    def on_epoch_end(self, fit, epoch, logs):
        value = self.sign * logs[self.monitor]
        if value < self.best - self.min_delta:
            self.best, self.wait = value, 0
            if self.restore_best:
                self.best_state = copy.deepcopy(fit.model.state_dict())
        else:
            self.wait += 1
            if self.wait >= self.patience:
                fit.stop_training = True

    def on_train_end(self, fit):
        if self.restore_best and self.best_state is not None:
            fit.model.load_state_dict(self.best_state)


class ExtraMetric(Callback):
    """Computes a metric that needs the raw model outputs on a separate probe set."""

    def __init__(self, name, loader, fn):
        self.name, self.loader, self.fn = name, loader, fn

    def on_epoch_end(self, fit, epoch, logs):
        model = fit.model
        restore = model.training
        model.eval()
        with torch.no_grad():
            outs = [model(x.to(fit.device)).cpu() for x, _ in self.loader]
            ys = [y for _, y in self.loader]
        model.train(restore)
        logs[self.name] = self.fn(torch.cat(outs), torch.cat(ys))


class Fit:
    def __init__(self, model, optimizer, loss_fn, metrics=None, device="cpu"):
        self.model = model.to(device)
        self.optimizer, self.loss_fn = optimizer, loss_fn
        self.metrics = metrics or {}
        self.device = device
        self.stop_training = False

    def _batches(self, loader):
        for x, y in loader:
            yield x.to(self.device), y.to(self.device)

    def _validate(self, loader):
        self.model.eval()
        sums, n = defaultdict(float), 0
        with torch.no_grad():
            for x, y in self._batches(loader):
                out = self.model(x)
                sums["val_loss"] += self.loss_fn(out, y).item() * len(y)
                for k, fn in self.metrics.items():
                    sums["val_" + k] += fn(out, y) * len(y)
                n += len(y)
        return {k: v / n for k, v in sums.items()}

    def fit(self, train_loader, val_loader, epochs, callbacks=()):
        self.stop_training = False
        for cb in callbacks:
            cb.on_train_begin(self)
        history = []
        for epoch in range(epochs):
            self.model.train()
            total, n = 0.0, 0
            for x, y in self._batches(train_loader):
                loss = self.loss_fn(self.model(x), y)
                self.optimizer.zero_grad()
                loss.backward()
                self.optimizer.step()
                total += loss.item() * len(y)
                n += len(y)
            logs = {"loss": total / n, **self._validate(val_loader)}
            for cb in callbacks:
                cb.on_epoch_end(self, epoch, logs)
            history.append(logs)
            print(f"epoch {epoch + 1}/{epochs} " + " ".join(f"{k}={v:.4f}" for k, v in logs.items()))
            if self.stop_training:
                break
        for cb in callbacks:
            cb.on_train_end(self)
        return history


if __name__ == "__main__":
    from toydata import make_moons_loaders
    train_dl, val_dl, probe_dl = make_moons_loaders()
    net = nn.Sequential(nn.Linear(2, 64), nn.BatchNorm1d(64), nn.ReLU(), nn.Dropout(0.2), nn.Linear(64, 2))
    opt = torch.optim.Adam(net.parameters(), 1e-3)
    acc = lambda out, y: (out.argmax(1) == y).float().mean().item()
    Fit(net, opt, nn.CrossEntropyLoss(), {"acc": acc}).fit(
        train_dl, val_dl, 200,
        callbacks=[ExtraMetric("probe_acc", probe_dl, acc), EarlyStopping("val_acc", patience=20, mode="max")])
