"""A GAN trainer that renders a fixed-noise grid every few hundred steps through its own `evaluating` context manager.

The context manager remembers each network's mode, switches it to eval, and restores the remembered
mode on exit, so the generator goes straight back to training after the snapshot.
"""
import contextlib

import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.utils import save_image


@contextlib.contextmanager
def evaluating(*nets):
    saved = [net.training for net in nets]
    for net in nets:
        net.eval()
    try:
        yield
    finally:
        for net, mode in zip(nets, saved):
            net.train(mode)


class Generator(nn.Module):
    def __init__(self, z_dim=128, ch=64):
        super().__init__()
        self.net = nn.Sequential(
            nn.ConvTranspose2d(z_dim, ch * 4, 4, 1, 0, bias=False), nn.BatchNorm2d(ch * 4), nn.ReLU(True),
            nn.ConvTranspose2d(ch * 4, ch * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ch * 2), nn.ReLU(True),
            nn.ConvTranspose2d(ch * 2, 3, 4, 2, 1), nn.Tanh(),
        )

    def forward(self, z):
        return self.net(z.view(z.size(0), -1, 1, 1))


class GANTrainer:
    def __init__(self, G, D, z_dim=128, snapshot_every=500):
        self.G, self.D = G, D
        self.opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.fixed_z = torch.randn(64, z_dim)
        self.z_dim = z_dim
        self.snapshot_every = snapshot_every

    def train(self, loader, epochs):
        self.G.train()
        self.D.train()
        step = 0
        for _ in range(epochs):
            for real in loader:
                z = torch.randn(real.size(0), self.z_dim)
                fake = self.G(z)
                d_real, d_fake = self.D(real), self.D(fake.detach())
                d_loss = F.softplus(-d_real).mean() + F.softplus(d_fake).mean()
                self.opt_d.zero_grad()
                d_loss.backward()
                self.opt_d.step()
                g_loss = F.softplus(-self.D(fake)).mean()
                self.opt_g.zero_grad()
                g_loss.backward()
                self.opt_g.step()
                step += 1
                if step % self.snapshot_every == 0:
                    with evaluating(self.G), torch.no_grad():
                        grid = self.G(self.fixed_z)
                    save_image(grid * 0.5 + 0.5, f"snapshots/{step:07d}.png", nrow=8)
