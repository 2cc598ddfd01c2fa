"""Small helpers for switching module modes without leaking them."""
from contextlib import contextmanager

import torch


@contextmanager
def evaluation(module):
    """Put ``module`` in eval mode (and autograd off) for the block, then restore it."""
    previous = module.training
    module.train(False)
    try:
        with torch.no_grad():
            yield module
    finally:
        module.train(previous)


def unwrap(module):
    return module.module if hasattr(module, "module") else module


@contextmanager
def frozen(module):
    """Temporarily disable gradients for all parameters of ``module``."""
    flags = [p.requires_grad for p in module.parameters()]
    for p in module.parameters():
        p.requires_grad_(False)
    try:
        yield module
    finally:
        for p, f in zip(module.parameters(), flags):
            p.requires_grad_(f)


def describe_modes(module):
    """Return {name: training} for every submodule whose mode differs from the root's."""
    root = module.training
    return {n: m.training for n, m in module.named_modules() if n and m.training != root}
