"""Shared pieces of the watcher's test scripts: a tiny model and data made in code."""

import torch
from torch import nn


def make_model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(8, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.3),
                         nn.Linear(16, 2))


def batches(n: int = 6, size: int = 16):
    g = torch.Generator().manual_seed(1)
    for _ in range(n):
        yield torch.randn(size, 8, generator=g), torch.randint(0, 2, (size,), generator=g)
