"""Tacotron-style prenet: dropout stays on at inference on purpose, and says so."""
import torch.nn as nn
import torch.nn.functional as F


class Prenet(nn.Module):
    def __init__(self, in_dim, sizes):
        super().__init__()
        in_sizes = [in_dim] + sizes[:-1]
        self.layers = nn.ModuleList(nn.Linear(i, o, bias=False) for i, o in zip(in_sizes, sizes))

    def forward(self, x):
        for linear in self.layers:
            # always-on dropout is part of the model (it adds output variation at synthesis)
            x = F.dropout(F.relu(linear(x)), p=0.5, training=True)  # noqa: MG201
        return x


class Encoder(nn.Module):
    def __init__(self, dim=512, p=0.5):
        super().__init__()
        self.conv = nn.Conv1d(dim, dim, 5, padding=2)
        self.p = p

    def forward(self, x):
        return F.dropout(F.relu(self.conv(x)), self.p, self.training)
