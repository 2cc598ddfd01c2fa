"""DCGAN on CelebA 64x64 with periodic fixed-noise grids and a final FID."""
import argparse
import os

import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision import datasets, transforms, utils as vutils

from metrics.fid import InceptionStats, frechet_distance


def _up(cin, cout):
    return [nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(True)]


class Generator(nn.Module):
    def __init__(self, nz=128, ngf=64):
        super().__init__()
        self.net = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False), nn.BatchNorm2d(ngf * 8), nn.ReLU(True),
            *_up(ngf * 8, ngf * 4), *_up(ngf * 4, ngf * 2), *_up(ngf * 2, ngf),
            nn.ConvTranspose2d(ngf, 3, 4, 2, 1, bias=False), nn.Tanh())

    def forward(self, z):
        return self.net(z.view(z.size(0), -1, 1, 1))


class Discriminator(nn.Module):
    def __init__(self, ndf=64):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(3, ndf, 4, 2, 1), nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 2), nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 4), nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf * 4, ndf * 8, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 8), nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf * 8, 1, 4, 1, 0))

    def forward(self, x):
        return self.net(x).flatten()


def snapshot(gen, fixed_z, path):
    was_training = gen.training
    gen.eval()
    try:
        with torch.no_grad():
            fake = gen(fixed_z)
        vutils.save_image(fake, path, normalize=True, value_range=(-1, 1), nrow=8)
    finally:
        gen.train(was_training)


@torch.no_grad()
def compute_fid(gen, real_stats, nz, n=10000, bs=250, device="cuda"):
    gen.eval()
    feats = InceptionStats(device)
    for _ in range(n // bs):
        feats.add(gen(torch.randn(bs, nz, device=device)))
    mu, sigma = feats.moments()
    return frechet_distance(mu, sigma, *real_stats)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default="data/celeba")
    ap.add_argument("--epochs", type=int, default=25)
    ap.add_argument("--nz", type=int, default=128)
    ap.add_argument("--out", default="out/dcgan")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    dev = "cuda"

    tf = transforms.Compose([transforms.Resize(64), transforms.CenterCrop(64), transforms.ToTensor(),
                             transforms.Normalize([0.5] * 3, [0.5] * 3)])
    loader = torch.utils.data.DataLoader(datasets.ImageFolder(args.root, tf), batch_size=128,
                                         shuffle=True, num_workers=8, drop_last=True)
    G, D = Generator(args.nz).to(dev), Discriminator().to(dev)
    optG = torch.optim.Adam(G.parameters(), 2e-4, betas=(0.5, 0.999))
    optD = torch.optim.Adam(D.parameters(), 2e-4, betas=(0.5, 0.999))
    fixed_z = torch.randn(64, args.nz, device=dev)

    it = 0
    for epoch in range(args.epochs):
        for real, _ in loader:
            real = real.to(dev)
            z = torch.randn(real.size(0), args.nz, device=dev)
            fake = G(z)
            d_loss = F.softplus(-D(real)).mean() + F.softplus(D(fake.detach())).mean()
            optD.zero_grad()
            d_loss.backward()
            optD.step()

            g_loss = F.softplus(-D(fake)).mean()
            optG.zero_grad()
            g_loss.backward()
            optG.step()

            it += 1
            if it % 500 == 0:
                print(f"ep {epoch} it {it} D {d_loss.item():.3f} G {g_loss.item():.3f}")
                snapshot(G, fixed_z, f"{args.out}/grid_{it:06d}.png")

    torch.save(G.state_dict(), f"{args.out}/G.pt")
    real_stats = InceptionStats.load_reference("stats/celeba64_train.npz")
    print("FID-10k:", compute_fid(G, real_stats, args.nz))


if __name__ == "__main__":
    main()
