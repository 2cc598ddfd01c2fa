"""Tiny VAE on 2-D toy data (two moons) - homework 5, question 2.
The encoder/decoder are small MLPs; `train` tells the model whether to sample z
(training) or just use the mean (for plotting the latent space)."""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import make_moons
import matplotlib.pyplot as plt


class MoonVAE(nn.Module):
    def __init__(self, latent_dim=2, hidden=64, train=True):
        super().__init__()
        self.enc = nn.Sequential(nn.Linear(2, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
        self.mu_head = nn.Linear(hidden, latent_dim)
        self.logvar_head = nn.Linear(hidden, latent_dim)
        self.dec = nn.Sequential(nn.Linear(latent_dim, hidden), nn.ReLU(),
                                 nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 2))
        self.train = train  # expect: MG104

    def forward(self, x):
        h = self.enc(x)
        mu, logvar = self.mu_head(h), self.logvar_head(h)
        if self.train:
            z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        else:
            z = mu
        return self.dec(z), mu, logvar


def elbo_loss(x_hat, x, mu, logvar):
    rec = F.mse_loss(x_hat, x, reduction="sum")
    kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return (rec + kl) / x.size(0)


X, labels = make_moons(n_samples=2000, noise=0.05, random_state=0)
X = torch.tensor(X, dtype=torch.float32)

vae = MoonVAE(train=True)
opt = torch.optim.Adam(vae.parameters(), lr=1e-3)
for epoch in range(200):
    perm = torch.randperm(len(X))
    total = 0.0
    for i in range(0, len(X), 100):
        xb = X[perm[i:i + 100]]
        x_hat, mu, logvar = vae(xb)
        loss = elbo_loss(x_hat, xb, mu, logvar)
        opt.zero_grad()
        loss.backward()
        opt.step()
        total += loss.item()
    if epoch % 20 == 0:
        print(f"epoch {epoch}: {total / 20:.4f}")

torch.save(vae.state_dict(), "moon_vae.pt")

# plotting: a second copy that uses the posterior mean
viewer = MoonVAE(train=False)
viewer.load_state_dict(torch.load("moon_vae.pt"))
with torch.no_grad():
    recon, mu, _ = viewer(X)
    grid = torch.tensor(np.mgrid[-3:3:0.5, -3:3:0.5].reshape(2, -1).T, dtype=torch.float32)
    decoded = viewer.dec(grid)

fig, ax = plt.subplots(1, 3, figsize=(15, 4))
ax[0].scatter(X[:, 0], X[:, 1], c=labels, s=4)
ax[0].set_title("data")
ax[1].scatter(mu[:, 0], mu[:, 1], c=labels, s=4)
ax[1].set_title("latent means")
ax[2].scatter(decoded[:, 0], decoded[:, 1], s=8)
ax[2].set_title("decoded grid")
plt.show()
