"""DCGAN on 64x64 images with a periodic FID estimate.

Port of an old TF implementation; hyper-parameters kept from the original repo.
"""
import argparse
import os

import numpy as np
import torch
import torch.nn as nn
import torchvision.utils as vutils
from scipy import linalg

from data import make_image_loader
from fid_features import load_inception_pool3


def up_block(cin, cout):
    return nn.Sequential(
        nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=False),
        nn.BatchNorm2d(cout, momentum=0.9, eps=1e-5),  # expect: MG303
        nn.ReLU(True),
    )


class Gen(nn.Module):
    def __init__(self, nz=128, ngf=64):
        super().__init__()
        self.project = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False),
            nn.BatchNorm2d(ngf * 8),
            nn.ReLU(True),
        )
        self.body = nn.Sequential(up_block(ngf * 8, ngf * 4), up_block(ngf * 4, ngf * 2), up_block(ngf * 2, ngf))
        self.to_rgb = nn.Sequential(nn.ConvTranspose2d(ngf, 3, 4, 2, 1), nn.Tanh())

    def forward(self, z):
        return self.to_rgb(self.body(self.project(z.view(z.size(0), -1, 1, 1))))


class Disc(nn.Module):
    def __init__(self, ndf=64):
        super().__init__()
        chans = [3, ndf, ndf * 2, ndf * 4, ndf * 8]
        layers = []
        for i in range(4):
            layers.append(nn.Conv2d(chans[i], chans[i + 1], 4, 2, 1, bias=False))
            if i > 0:
                layers.append(nn.BatchNorm2d(chans[i + 1]))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
        layers.append(nn.Conv2d(ndf * 8, 1, 4, 1, 0))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x).view(-1)


def frechet(mu1, s1, mu2, s2):
    covmean, _ = linalg.sqrtm(s1.dot(s2), disp=False)
    covmean = covmean.real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def fid_of_generator(g, feat_net, ref_stats, nz, device, n=5000, bs=250):
    g.eval()  # expect: MG101
    acts = []
    with torch.no_grad():
        for _ in range(n // bs):
            z = torch.randn(bs, nz, device=device)
            imgs = (g(z) + 1) / 2
            acts.append(feat_net(imgs).cpu().numpy())
    acts = np.concatenate(acts)
    return frechet(acts.mean(0), np.cov(acts, rowvar=False), ref_stats["mu"], ref_stats["sigma"])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--ref-stats", required=True)
    p.add_argument("--epochs", type=int, default=25)
    p.add_argument("--bs", type=int, default=128)
    p.add_argument("--nz", type=int, default=128)
    p.add_argument("--fid-every", type=int, default=2000)
    p.add_argument("--out", default="runs/dcgan")
    args = p.parse_args()

    dev = torch.device("cuda")
    os.makedirs(args.out, exist_ok=True)
    loader = make_image_loader(args.data, args.bs, size=64)
    G, D = Gen(args.nz).to(dev), Disc().to(dev)
    inception = load_inception_pool3().to(dev).eval()
    ref = dict(np.load(args.ref_stats))

    optG = torch.optim.Adam(G.parameters(), 2e-4, betas=(0.5, 0.999))
    optD = torch.optim.Adam(D.parameters(), 2e-4, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    fixed_z = torch.randn(64, args.nz, device=dev)

    G.train()
    D.train()
    it = 0
    for epoch in range(args.epochs):
        for real, _ in loader:
            real = real.to(dev)
            b = real.size(0)
            z = torch.randn(b, args.nz, device=dev)
            fake = G(z)

            optD.zero_grad()
            lossD = bce(D(real), torch.ones(b, device=dev)) + bce(D(fake.detach()), torch.zeros(b, device=dev))
            lossD.backward()
            optD.step()

            optG.zero_grad()
            lossG = bce(D(fake), torch.ones(b, device=dev))
            lossG.backward()
            optG.step()

            it += 1
            if it % args.fid_every == 0:
                score = fid_of_generator(G, inception, ref, args.nz, dev)
                print(f"[{epoch}:{it}] D {lossD.item():.3f} G {lossG.item():.3f} FID {score:.2f}")
                with torch.no_grad():
                    grid = G(fixed_z)
                vutils.save_image(grid, f"{args.out}/it{it:07d}.png", normalize=True)
        torch.save({"G": G.state_dict(), "D": D.state_dict()}, f"{args.out}/last.pt")


if __name__ == "__main__":
    main()
