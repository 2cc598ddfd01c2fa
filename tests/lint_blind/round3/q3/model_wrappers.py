"""Thin wrappers the experiment scripts put around models: compile, channels-last, logging.

`Wrapped` forwards unknown attributes to the wrapped module, so `w.eval()`, `w.train()`,
`w.parameters()` and `w.state_dict()` behave like the underlying nn.Module.
"""
import time

import pandas as pd
import torch
import torch.nn as nn


class Wrapped:
    def __init__(self, module, compile_model=False, channels_last=True):
        if channels_last:
            module = module.to(memory_format=torch.channels_last)
        self._module = module
        self._fn = torch.compile(module, mode="max-autotune") if compile_model else module
        self.calls = 0

    def __getattr__(self, name):
        # only reached for attributes not found on the wrapper itself
        return getattr(self.__dict__["_module"], name)

    def __call__(self, x):
        self.calls += 1
        return self._fn(x.contiguous(memory_format=torch.channels_last))

    @property
    def module(self):
        return self._module


class Timed(nn.Module):
    """nn.Module wrapper that records forward latency; train/eval recurse as usual."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner
        self.latencies = []

    def forward(self, *a, **kw):
        t0 = time.perf_counter()
        out = self.inner(*a, **kw)
        self.latencies.append(time.perf_counter() - t0)
        return out


def run_epoch(wrapped, loader, opt, crit, device):
    for x, y in loader:
        wrapped.train()
        x, y = x.to(device), y.to(device)
        loss = crit(wrapped(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()


@torch.no_grad()
def predict(wrapped, loader, device):
    wrapped.eval()
    preds, labels = [], []
    for x, y in loader:
        preds.append(wrapped(x.to(device)).argmax(1).cpu())
        labels.append(y)
    return torch.cat(preds), torch.cat(labels)


def benchmark(net_factory, train_dl, val_dl, device="cuda", epochs=3):
    rows = []
    for compiled in (False, True):
        net = Timed(net_factory()).to(device)
        w = Wrapped(net, compile_model=compiled)
        opt = torch.optim.SGD(w.parameters(), lr=0.05, momentum=0.9)
        crit = nn.CrossEntropyLoss()
        for ep in range(epochs):
            run_epoch(w, train_dl, opt, crit, device)
            p, y = predict(w, val_dl, device)
            rows.append({"compiled": compiled, "epoch": ep, "correct": (p == y).sum().item(),
                         "n": len(y), "ms": 1e3 * sum(net.latencies) / len(net.latencies)})
            net.latencies.clear()
    df = pd.DataFrame(rows)
    df = df.eval("acc = correct / n")
    return df.pivot_table(index="epoch", columns="compiled", values=["acc", "ms"])
