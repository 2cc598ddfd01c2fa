"""Building blocks for the Tacotron2-lite acoustic model."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class ConvBNBlock(nn.Module):
    def __init__(self, cin, cout, kernel=5, activation="relu", dropout=0.5):
        super().__init__()
        self.conv = nn.Conv1d(cin, cout, kernel, padding=kernel // 2)
        self.bn = nn.BatchNorm1d(cout)
        self.act = nn.ReLU() if activation == "relu" else (nn.Tanh() if activation == "tanh" else nn.Identity())
        self.drop = nn.Dropout(dropout)

    def forward(self, x):  # x: B x C x T
        return self.drop(self.act(self.bn(self.conv(x))))


class Prenet(nn.Module):
    def __init__(self, in_dim, sizes=(256, 256), p=0.5):
        super().__init__()
        dims = [in_dim] + list(sizes)
        self.layers = nn.ModuleList([nn.Linear(a, b, bias=False) for a, b in zip(dims[:-1], dims[1:])])
        self.drop = nn.Dropout(p)

    def forward(self, x):
        for lin in self.layers:
            x = self.drop(F.relu(lin(x)))
        return x


class ZoneoutLSTMCell(nn.Module):
    """LSTMCell with zoneout on both hidden and cell state (Krueger et al., 2016)."""

    def __init__(self, input_size, hidden_size, zoneout=0.1):
        super().__init__()
        self.cell = nn.LSTMCell(input_size, hidden_size)
        self.hidden_size = hidden_size
        self.zoneout = zoneout

    def initial_state(self, batch, device):
        z = torch.zeros(batch, self.hidden_size, device=device)
        return z, z.clone()

    def forward(self, x, state):
        h, c = state
        new_h, new_c = self.cell(x, (h, c))
        if not self.training:
            # no zoneout at inference time
            self.zoneout = 0.0  # expect: MG203
        if self.zoneout > 0:
            keep_h = torch.empty_like(h).bernoulli_(self.zoneout)
            keep_c = torch.empty_like(c).bernoulli_(self.zoneout)
            new_h = keep_h * h + (1 - keep_h) * new_h
            new_c = keep_c * c + (1 - keep_c) * new_c
        return new_h, new_c


class AdditiveAttention(nn.Module):
    def __init__(self, query_dim, memory_dim, attn_dim=128):
        super().__init__()
        self.query = nn.Linear(query_dim, attn_dim, bias=False)
        self.memory = nn.Linear(memory_dim, attn_dim, bias=False)
        self.v = nn.Linear(attn_dim, 1, bias=False)

    def preprocess(self, memory):
        return self.memory(memory)

    def forward(self, query, memory, processed_memory, mask=None):
        energies = self.v(torch.tanh(self.query(query).unsqueeze(1) + processed_memory)).squeeze(-1)
        if mask is not None:
            energies = energies.masked_fill(mask, float("-inf"))
        weights = F.softmax(energies, dim=1)
        context = torch.bmm(weights.unsqueeze(1), memory).squeeze(1)
        return context, weights
