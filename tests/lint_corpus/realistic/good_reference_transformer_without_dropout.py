"""A script that compares a reference decoder (defined here, no dropout or normalization with
running statistics) with a copy of itself under no_grad: its mode changes nothing."""
import torch
import torch.nn as nn


class RMSNorm(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6) * self.weight


class TransformerBlock(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.norm = RMSNorm(dim)
        self.mlp = nn.Linear(dim, dim)

    def forward(self, x):
        return x + self.mlp(self.norm(x))


class Transformer(nn.Module):
    def __init__(self, dim, layers):
        super().__init__()
        self.layers = nn.ModuleList(TransformerBlock(dim) for _ in range(layers))

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


def compare(dim=16):
    decoder_ref = Transformer(dim, 2)
    x = torch.randn(2, 5, dim)
    with torch.no_grad():
        out = decoder_ref(x)
    return out
