"""Dual-stage attention RNN (DA-RNN) for multivariate time-series forecasting.

The model object owns its optimisers and training loop so that the notebook
can just do `net = DARNN(...); net.train(X, y)`.
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import optim


class InputAttnEncoder(nn.Module):
    def __init__(self, n_series, hidden, T):
        super().__init__()
        self.hidden = hidden
        self.T = T
        self.lstm = nn.LSTM(n_series, hidden, batch_first=True)
        self.attn = nn.Linear(2 * hidden + T - 1, 1)

    def forward(self, X):
        B, _, n = X.shape
        h = X.new_zeros(1, B, self.hidden)
        c = X.new_zeros(1, B, self.hidden)
        encoded = X.new_zeros(B, self.T - 1, self.hidden)
        for t in range(self.T - 1):
            z = torch.cat([h.repeat(n, 1, 1).permute(1, 0, 2),
                           c.repeat(n, 1, 1).permute(1, 0, 2),
                           X.permute(0, 2, 1)], dim=2)
            a = F.softmax(self.attn(z.view(-1, 2 * self.hidden + self.T - 1)).view(B, n), dim=1)
            _, (h, c) = self.lstm((a * X[:, t, :]).unsqueeze(1), (h, c))
            encoded[:, t, :] = h[0]
        return encoded


class TemporalAttnDecoder(nn.Module):
    def __init__(self, enc_hidden, dec_hidden, T, dropout=0.2):
        super().__init__()
        self.T = T
        self.dec_hidden = dec_hidden
        self.attn = nn.Sequential(nn.Linear(2 * dec_hidden + enc_hidden, enc_hidden), nn.Tanh(),
                                  nn.Linear(enc_hidden, 1))
        self.lstm = nn.LSTM(1, dec_hidden, batch_first=True)
        self.fc = nn.Linear(enc_hidden + 1, 1)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(dec_hidden + enc_hidden, 1)

    def forward(self, enc, y_hist):
        B = enc.size(0)
        d = enc.new_zeros(1, B, self.dec_hidden)
        s = enc.new_zeros(1, B, self.dec_hidden)
        ctx = enc.new_zeros(B, enc.size(2))
        for t in range(self.T - 1):
            z = torch.cat([d.repeat(self.T - 1, 1, 1).permute(1, 0, 2),
                           s.repeat(self.T - 1, 1, 1).permute(1, 0, 2), enc], dim=2)
            beta = F.softmax(self.attn(z).squeeze(-1), dim=1)
            ctx = torch.bmm(beta.unsqueeze(1), enc).squeeze(1)
            y_tilde = self.fc(torch.cat([ctx, y_hist[:, t].unsqueeze(1)], dim=1))
            _, (d, s) = self.lstm(y_tilde.unsqueeze(1), (d, s))
        return self.out(self.drop(torch.cat([d[0], ctx], dim=1)))


class DARNN(nn.Module):
    def __init__(self, n_series, T=10, enc_hidden=64, dec_hidden=64, lr=1e-3, batch_size=128, device="cpu"):
        super().__init__()
        self.T = T
        self.batch_size = batch_size
        self.device = torch.device(device)
        self.encoder = InputAttnEncoder(n_series, enc_hidden, T)
        self.decoder = TemporalAttnDecoder(enc_hidden, dec_hidden, T)
        self.to(self.device)
        self.enc_opt = optim.Adam(self.encoder.parameters(), lr=lr)
        self.dec_opt = optim.Adam(self.decoder.parameters(), lr=lr)
        self.loss_fn = nn.MSELoss()

    def forward(self, X, y_hist):
        return self.decoder(self.encoder(X), y_hist)

    def _windows(self, X, y, idx):
        xb = np.stack([X[i:i + self.T - 1] for i in idx])
        yh = np.stack([y[i:i + self.T - 1] for i in idx])
        yt = y[idx + self.T - 1]
        to_t = lambda a: torch.as_tensor(a, dtype=torch.float32, device=self.device)
        return to_t(xb), to_t(yh), to_t(yt)

    def train(self, X, y, n_epochs=50, log_every=10):  # expect: MG104
        n_train = len(X) - self.T
        history = []
        for epoch in range(n_epochs):
            perm = np.random.permutation(n_train)
            total = 0.0
            for start in range(0, n_train, self.batch_size):
                idx = perm[start:start + self.batch_size]
                xb, yh, yt = self._windows(X, y, idx)
                self.enc_opt.zero_grad()
                self.dec_opt.zero_grad()
                loss = self.loss_fn(self(xb, yh).squeeze(1), yt)
                loss.backward()
                self.enc_opt.step()
                self.dec_opt.step()
                total += loss.item() * len(idx)
            history.append(total / n_train)
            if epoch % log_every == 0:
                print(f"epoch {epoch:3d}  mse {history[-1]:.5f}")
        return history
