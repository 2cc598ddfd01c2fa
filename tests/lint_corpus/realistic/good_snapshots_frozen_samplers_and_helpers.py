"""Correct code that looks suspicious: a snapshot made with copy.deepcopy(...).eval() inside
the training loop, a sampler whose parameters need no gradients, an evaluation under
set_grad_enabled(False), a dropout that is on at inference on purpose (said in a comment),
and attention dropout gated through a helper method."""
import copy

import torch
import torch.nn.functional as F
from torch import nn


class Block(nn.Module):
    def __init__(self, p=0.1):
        super().__init__()
        self.p = p

    def _attn_p(self):
        return self.p if self.training else 0.0

    def forward(self, q, k, v):
        out = F.scaled_dot_product_attention(q, k, v, dropout_p=self._attn_p())
        return F.dropout(out, 0.5, training=True)  # deliberate: on at inference too (MC dropout)


def train(G, loader, optimizer, snapshots):
    for step, z in enumerate(loader):
        G.train()
        loss = G(z).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 1000 == 0:
            snapshot = copy.deepcopy(G).eval().requires_grad_(False)
            snapshots.append(snapshot)


def sample_grid(G, zs):
    sampler = copy.deepcopy(G)
    sampler.eval().requires_grad_(False)
    return [sampler(z) for z in zs]


def evaluate(model, loader):
    model.eval()
    with torch.set_grad_enabled(False):
        return [model(x) for x in loader]
