"""A DLinear-style time-series forecaster (moving-average decomposition plus per-channel linear heads).

The evaluation helper switches the model to eval mode mid-epoch and never switches it back, which is
harmless here: the model holds only Linear layers and an average pool, none of which depend on the mode.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


class MovingAverage(nn.Module):
    def __init__(self, kernel_size):
        super().__init__()
        self.pad = (kernel_size - 1) // 2
        self.pool = nn.AvgPool1d(kernel_size, stride=1)

    def forward(self, x):  # x: (batch, length, channels)
        front = x[:, :1].repeat(1, self.pad, 1)
        back = x[:, -1:].repeat(1, self.pad, 1)
        return self.pool(torch.cat([front, x, back], dim=1).transpose(1, 2)).transpose(1, 2)


class DLinear(nn.Module):
    def __init__(self, seq_len, pred_len, n_channels, kernel_size=25):
        super().__init__()
        self.n_channels = n_channels
        self.trend = MovingAverage(kernel_size)
        self.heads = nn.ModuleList(nn.Linear(seq_len, pred_len) for _ in range(n_channels))
        self.trend_heads = nn.ModuleList(nn.Linear(seq_len, pred_len) for _ in range(n_channels))

    def forward(self, x):
        trend = self.trend(x)
        seasonal = (x - trend).transpose(1, 2)
        trend = trend.transpose(1, 2)
        outs = [self.heads[i](seasonal[:, i]) + self.trend_heads[i](trend[:, i]) for i in range(self.n_channels)]
        return torch.stack(outs, dim=-1)


def evaluate(model, loader):
    model.eval()
    errors = []
    with torch.no_grad():
        for x, y in loader:
            errors.append(F.mse_loss(model(x), y).item())
    return sum(errors) / max(len(errors), 1)


def train(train_loader, val_loader, epochs=20, eval_every=200):
    model = DLinear(seq_len=336, pred_len=96, n_channels=7)
    opt = torch.optim.Adam(model.parameters(), lr=5e-3)
    step = 0
    for epoch in range(epochs):
        model.train()
        for x, y in train_loader:
            loss = F.mse_loss(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            if step % eval_every == 0:
                print(f"epoch {epoch} step {step} val mse {evaluate(model, val_loader):.5f}")
    return model
