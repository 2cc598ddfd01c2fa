"""A minimal home-made trainer with callback hooks; one callback evaluates the model every N steps.

That callback switches the shared model to eval mode and never switches it back, while fit() only
calls model.train() at the start of each epoch, so the rest of the epoch trains in eval mode.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


class Callback:
    def on_epoch_begin(self, trainer):
        pass

    def on_step_end(self, trainer):
        pass

    def on_epoch_end(self, trainer):
        pass


class PeriodicAccuracy(Callback):
    def __init__(self, loader, every=200):
        self.loader = loader
        self.every = every
        self.history = []

    def on_step_end(self, trainer):
        if trainer.global_step % self.every:
            return
        net = trainer.model
        net.eval()  # expect: MG101
        hits = seen = 0
        with torch.no_grad():
            for x, y in self.loader:
                hits += (net(x).argmax(-1) == y).sum().item()
                seen += y.numel()
        self.history.append((trainer.global_step, hits / max(seen, 1)))


class Trainer:
    def __init__(self, model, optimizer, callbacks=()):
        self.model = model
        self.optimizer = optimizer
        self.callbacks = list(callbacks)
        self.global_step = 0

    def _fire(self, hook):
        for cb in self.callbacks:
            getattr(cb, hook)(self)

    def fit(self, loader, epochs):
        for _ in range(epochs):
            self._fire("on_epoch_begin")
            self.model.train()
            for x, y in loader:
                loss = F.cross_entropy(self.model(x), y)
                self.optimizer.zero_grad()
                loss.backward()
                self.optimizer.step()
                self.global_step += 1
                self._fire("on_step_end")
            self._fire("on_epoch_end")


def main(train_loader, val_loader):
    model = nn.Sequential(
        nn.Linear(784, 512), nn.BatchNorm1d(512), nn.ReLU(), nn.Dropout(0.2), nn.Linear(512, 10)
    )
    opt = torch.optim.AdamW(model.parameters(), lr=3e-4)
    Trainer(model, opt, callbacks=[PeriodicAccuracy(val_loader)]).fit(train_loader, epochs=20)
