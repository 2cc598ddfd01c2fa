"""DCGAN on 64x64 face crops, with periodic sample grids and a final FID."""
import argparse
import os

import torch
import torch.nn as nn
import torchvision.utils as vutils
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

from fid import FIDScorer


class Generator(nn.Module):
    def __init__(self, nz=128, ngf=64):
        super().__init__()

        def up(cin, cout):
            return [nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(True)]

        self.main = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False), nn.BatchNorm2d(ngf * 8), nn.ReLU(True),
            *up(ngf * 8, ngf * 4), *up(ngf * 4, ngf * 2), *up(ngf * 2, ngf),
            nn.ConvTranspose2d(ngf, 3, 4, 2, 1, bias=False), nn.Tanh(),
        )

    def forward(self, z):
        return self.main(z.view(z.size(0), -1, 1, 1))


class Discriminator(nn.Module):
    def __init__(self, ndf=64):
        super().__init__()

        def down(cin, cout):
            return [nn.Conv2d(cin, cout, 4, 2, 1, bias=False), nn.BatchNorm2d(cout), nn.LeakyReLU(0.2, True)]

        self.main = nn.Sequential(
            nn.Conv2d(3, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, True),
            *down(ndf, ndf * 2), *down(ndf * 2, ndf * 4), *down(ndf * 4, ndf * 8),
            nn.Conv2d(ndf * 8, 1, 4, 1, 0, bias=False),
        )

    def forward(self, x):
        return self.main(x).view(-1)


def dump_grid(gen, z, path):
    gen.eval()
    with torch.no_grad():
        fake = gen(z).cpu()
    vutils.save_image(fake, path, nrow=8, normalize=True, value_range=(-1, 1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--iters", type=int, default=100_000)
    ap.add_argument("--bs", type=int, default=128)
    ap.add_argument("--nz", type=int, default=128)
    ap.add_argument("--sample-every", type=int, default=1000)
    ap.add_argument("--out", default="dcgan_out")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    device = torch.device("cuda")
    tfm = transforms.Compose([transforms.Resize(64), transforms.CenterCrop(64), transforms.ToTensor(),
                              transforms.Normalize((0.5,) * 3, (0.5,) * 3)])
    loader = DataLoader(datasets.ImageFolder(args.root, tfm), batch_size=args.bs, shuffle=True,
                        num_workers=8, drop_last=True)
    netG, netD = Generator(args.nz).to(device), Discriminator().to(device)
    optG = torch.optim.Adam(netG.parameters(), lr=2e-4, betas=(0.5, 0.999))
    optD = torch.optim.Adam(netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    fixed_z = torch.randn(64, args.nz, device=device)

    it = 0
    while it < args.iters:
        for real, _ in loader:
            real = real.to(device)
            z = torch.randn(real.size(0), args.nz, device=device)
            fake = netG(z)

            d_loss = bce(netD(real), torch.ones(real.size(0), device=device)) + \
                bce(netD(fake.detach()), torch.zeros(real.size(0), device=device))
            optD.zero_grad()
            d_loss.backward()
            optD.step()

            g_loss = bce(netD(fake), torch.ones(real.size(0), device=device))
            optG.zero_grad()
            g_loss.backward()
            optG.step()

            it += 1
            if it % args.sample_every == 0:
                dump_grid(netG, fixed_z, os.path.join(args.out, f"iter_{it:06d}.png"))
                netG.train()
                print(f"[{it}] D {d_loss.item():.3f} G {g_loss.item():.3f}")
                torch.save({"G": netG.state_dict(), "D": netD.state_dict()}, os.path.join(args.out, "last.pt"))
            if it >= args.iters:
                break

    netG.eval()
    scorer = FIDScorer(args.root, device=device)
    with torch.no_grad():
        samples = torch.cat([netG(torch.randn(500, args.nz, device=device)) for _ in range(20)])
    print(f"FID over 10k samples: {scorer(samples):.2f}")


if __name__ == "__main__":
    main()
