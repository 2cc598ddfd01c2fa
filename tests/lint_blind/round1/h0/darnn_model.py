"""Dual-stage attention RNN for multivariate time-series forecasting."""
import numpy as np
import torch
from torch import nn
from torch.nn import functional as F


class InputAttentionEncoder(nn.Module):
    def __init__(self, n_series, hidden, window):
        super().__init__()
        self.hidden = hidden
        self.window = window
        self.lstm = nn.LSTM(n_series, hidden, num_layers=1)
        self.attn = nn.Linear(2 * hidden + window, 1)

    def forward(self, x):
        # x: (batch, window, n_series)
        b, t, n = x.shape
        h = x.new_zeros(1, b, self.hidden)
        c = x.new_zeros(1, b, self.hidden)
        encoded = []
        for step in range(t):
            hc = torch.cat([h.repeat(n, 1, 1).permute(1, 0, 2),
                            c.repeat(n, 1, 1).permute(1, 0, 2),
                            x.permute(0, 2, 1)], dim=2)
            e = self.attn(hc.view(-1, 2 * self.hidden + t)).view(b, n)
            alpha = F.softmax(e, dim=1)
            _, (h, c) = self.lstm((alpha * x[:, step]).unsqueeze(0), (h, c))
            encoded.append(h[0])
        return torch.stack(encoded, dim=1)


class TemporalAttentionDecoder(nn.Module):
    def __init__(self, enc_hidden, dec_hidden, window):
        super().__init__()
        self.dec_hidden = dec_hidden
        self.score = nn.Sequential(nn.Linear(2 * dec_hidden + enc_hidden, enc_hidden),
                                   nn.Tanh(), nn.Linear(enc_hidden, 1))
        self.cell = nn.LSTM(1, dec_hidden)
        self.mix = nn.Linear(enc_hidden + 1, 1)
        self.head = nn.Linear(dec_hidden + enc_hidden, 1)

    def forward(self, enc, y_hist):
        b, t, _ = enc.shape
        d = enc.new_zeros(1, b, self.dec_hidden)
        s = enc.new_zeros(1, b, self.dec_hidden)
        ctx = enc.new_zeros(b, enc.size(2))
        for step in range(t):
            q = torch.cat([d.repeat(t, 1, 1).permute(1, 0, 2),
                           s.repeat(t, 1, 1).permute(1, 0, 2), enc], dim=2)
            beta = F.softmax(self.score(q).squeeze(-1), dim=1)
            ctx = torch.bmm(beta.unsqueeze(1), enc).squeeze(1)
            y_tilde = self.mix(torch.cat([ctx, y_hist[:, step:step + 1]], dim=1))
            _, (d, s) = self.cell(y_tilde.unsqueeze(0), (d, s))
        return self.head(torch.cat([d[0], ctx], dim=1))


class DualStageRNN(nn.Module):
    def __init__(self, n_series, enc_hidden=64, dec_hidden=64, window=10, lr=1e-3):
        super().__init__()
        self.encoder = InputAttentionEncoder(n_series, enc_hidden, window)
        self.decoder = TemporalAttentionDecoder(enc_hidden, dec_hidden, window)
        self.loss_fn = nn.MSELoss()
        self.optimizer = torch.optim.Adam(self.parameters(), lr=lr)
        self.history = []

    def forward(self, x, y_hist):
        return self.decoder(self.encoder(x), y_hist)

    def train(self, n_epochs, loader, log_every=50):  # expect: MG104
        for ep in range(n_epochs):
            losses = []
            for x, y_hist, y_next in loader:
                pred = self(x, y_hist)
                loss = self.loss_fn(pred.squeeze(-1), y_next)
                self.optimizer.zero_grad()
                loss.backward()
                self.optimizer.step()
                losses.append(loss.item())
            self.history.append(float(np.mean(losses)))
            if ep % log_every == 0:
                print(f"epoch {ep:4d}  mse {self.history[-1]:.6f}")
        return self.history

    def predict(self, loader):
        out = []
        with torch.no_grad():
            for x, y_hist, _ in loader:
                out.append(self(x, y_hist).squeeze(-1).cpu().numpy())
        return np.concatenate(out)
