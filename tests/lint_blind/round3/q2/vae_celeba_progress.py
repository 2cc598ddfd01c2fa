"""Convolutional VAE on 64x64 CelebA crops.
Saves a grid of reconstructions + random samples every 2 epochs."""
import contextlib
import os

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision.utils as vutils
from torchvision import datasets, transforms

Z = 128
device = "cuda" if torch.cuda.is_available() else "cpu"
os.makedirs("vae_out", exist_ok=True)

celeba = datasets.ImageFolder("data/celeba_64", transforms.Compose([
    transforms.CenterCrop(64), transforms.ToTensor()]))
loader = torch.utils.data.DataLoader(celeba, batch_size=128, shuffle=True, num_workers=4, drop_last=True)
fixed_batch = next(iter(loader))[0][:32].to(device)


@contextlib.contextmanager
def evaluating(module):
    """Temporarily switch a module to eval mode, then put back whatever mode it had."""
    prev = module.training
    module.eval()
    try:
        yield module
    finally:
        module.train(prev)


def down(i, o):
    return nn.Sequential(nn.Conv2d(i, o, 4, 2, 1), nn.BatchNorm2d(o), nn.LeakyReLU(0.2))


def up(i, o):
    return nn.Sequential(nn.ConvTranspose2d(i, o, 4, 2, 1), nn.BatchNorm2d(o), nn.LeakyReLU(0.2))


class VAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = nn.Sequential(down(3, 32), down(32, 64), down(64, 128), down(128, 256))
        self.mu = nn.Linear(256 * 4 * 4, Z)
        self.logvar = nn.Linear(256 * 4 * 4, Z)
        self.fc = nn.Linear(Z, 256 * 4 * 4)
        self.dec = nn.Sequential(up(256, 128), up(128, 64), up(64, 32),
                                 nn.ConvTranspose2d(32, 3, 4, 2, 1), nn.Sigmoid())

    def encode(self, x):
        h = self.enc(x).flatten(1)
        return self.mu(h), self.logvar(h)

    def decode(self, z):
        return self.dec(self.fc(z).view(-1, 256, 4, 4))

    def forward(self, x):
        mu, logvar = self.encode(x)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return self.decode(z), mu, logvar


vae = VAE().to(device)
opt = torch.optim.Adam(vae.parameters(), lr=1e-3)


def vae_loss(recon, x, mu, logvar, beta=1.0):
    rec = F.binary_cross_entropy(recon, x, reduction="sum") / x.size(0)
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp()) / x.size(0)
    return rec + beta * kld, rec, kld


def save_progress(epoch):
    with evaluating(vae), torch.no_grad():
        recon, _, _ = vae(fixed_batch)
        samples = vae.decode(torch.randn(32, Z, device=device))
    vutils.save_image(torch.cat([fixed_batch, recon]), f"vae_out/recon_{epoch:03d}.png", nrow=8)
    vutils.save_image(samples, f"vae_out/sample_{epoch:03d}.png", nrow=8)


for epoch in range(1, 31):
    vae.train()
    tot = 0.0
    for x, _ in loader:
        x = x.to(device)
        recon, mu, logvar = vae(x)
        loss, rec, kld = vae_loss(recon, x, mu, logvar, beta=min(1.0, epoch / 10))
        opt.zero_grad()
        loss.backward()
        opt.step()
        tot += loss.item()
    print(f"epoch {epoch}: loss/img {tot / len(loader):.1f}")
    if epoch % 2 == 0:
        save_progress(epoch)

torch.save(vae.state_dict(), "vae_out/vae.pt")
