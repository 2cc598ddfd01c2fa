"""A dual-stage attention RNN whose training routine is a method called train()."""
import torch
import torch.nn as nn


class DA_RNN(nn.Module):
    def __init__(self, X, y, T, encoder_hidden=64, learning_rate=0.01):
        super().__init__()
        self.encoder = nn.LSTM(X.shape[1], encoder_hidden)
        self.decoder = nn.Linear(encoder_hidden, 1)
        self.X, self.y, self.T = X, y, T
        self.optimizer = torch.optim.Adam(self.parameters(), lr=learning_rate)

    def forward(self, x):
        out, _ = self.encoder(x)
        return self.decoder(out[-1])

    def train(self, n_epochs=10, batch_size=128):  # expect: MG104
        for epoch in range(n_epochs):
            self.optimizer.zero_grad()
            loss = ((self(self.X) - self.y) ** 2).mean()
            loss.backward()
            self.optimizer.step()


class GSPnP(nn.Module):
    def __init__(self, denoiser, train=False):
        super().__init__()
        self.denoiser = denoiser
        self.train = train  # expect: MG104

    def forward(self, x, sigma):
        return x - self.denoiser(x, sigma)
