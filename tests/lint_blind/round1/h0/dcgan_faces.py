import argparse
import os
import random

import torch
import torch.nn as nn
import torchvision.utils as vutils
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

parser = argparse.ArgumentParser()
parser.add_argument("--dataroot", required=True)
parser.add_argument("--nz", type=int, default=100)
parser.add_argument("--ngf", type=int, default=64)
parser.add_argument("--ndf", type=int, default=64)
parser.add_argument("--niter", type=int, default=25)
parser.add_argument("--sample-every", type=int, default=500)
parser.add_argument("--outf", default="samples")
opt = parser.parse_args()
os.makedirs(opt.outf, exist_ok=True)
random.seed(999)
torch.manual_seed(999)
device = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")


def init_weights(m):
    name = m.__class__.__name__
    if "Conv" in name:
        nn.init.normal_(m.weight, 0.0, 0.02)
    elif "BatchNorm" in name:
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


def up(cin, cout, first=False):
    return [nn.ConvTranspose2d(cin, cout, 4, 1 if first else 2, 0 if first else 1, bias=False),
            nn.BatchNorm2d(cout, momentum=0.1), nn.ReLU(True)]


class Generator(nn.Module):
    def __init__(self, nz, ngf):
        super().__init__()
        self.main = nn.Sequential(*up(nz, ngf * 8, first=True), *up(ngf * 8, ngf * 4),
                                  *up(ngf * 4, ngf * 2), *up(ngf * 2, ngf),
                                  nn.ConvTranspose2d(ngf, 3, 4, 2, 1, bias=False), nn.Tanh())

    def forward(self, z):
        return self.main(z)


class Discriminator(nn.Module):
    def __init__(self, ndf):
        super().__init__()
        layers = [nn.Conv2d(3, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, True)]
        for mult in (1, 2, 4):
            layers += [nn.Conv2d(ndf * mult, ndf * mult * 2, 4, 2, 1, bias=False),
                       nn.BatchNorm2d(ndf * mult * 2), nn.LeakyReLU(0.2, True)]
        layers += [nn.Dropout(0.25), nn.Conv2d(ndf * 8, 1, 4, 1, 0, bias=False)]
        self.main = nn.Sequential(*layers)

    def forward(self, x):
        return self.main(x).view(-1)


def sample_grid(gen, noise, path):
    was_training = gen.training
    gen.eval()
    with torch.no_grad():
        fake = gen(noise).cpu()
    gen.train(was_training)
    vutils.save_image(fake, path, normalize=True, nrow=8)


tfm = transforms.Compose([transforms.Resize(64), transforms.CenterCrop(64), transforms.ToTensor(),
                          transforms.Normalize((0.5,) * 3, (0.5,) * 3)])
loader = DataLoader(datasets.ImageFolder(opt.dataroot, tfm), batch_size=128, shuffle=True,
                    num_workers=4, drop_last=True)

netG = Generator(opt.nz, opt.ngf).to(device).apply(init_weights)
netD = Discriminator(opt.ndf).to(device).apply(init_weights)
criterion = nn.BCEWithLogitsLoss()
fixed_noise = torch.randn(64, opt.nz, 1, 1, device=device)
optD = torch.optim.Adam(netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
optG = torch.optim.Adam(netG.parameters(), lr=2e-4, betas=(0.5, 0.999))

iters = 0
netG.train()
netD.train()
for epoch in range(opt.niter):
    for real, _ in loader:
        real = real.to(device)
        b = real.size(0)
        ones, zeros = torch.ones(b, device=device), torch.zeros(b, device=device)

        netD.zero_grad()
        fake = netG(torch.randn(b, opt.nz, 1, 1, device=device))
        errD = criterion(netD(real), ones) + criterion(netD(fake.detach()), zeros)
        errD.backward()
        optD.step()

        netG.zero_grad()
        errG = criterion(netD(fake), ones)
        errG.backward()
        optG.step()

        if iters % opt.sample_every == 0:
            print(f"[{epoch}/{opt.niter}] it {iters} loss_D {errD.item():.4f} loss_G {errG.item():.4f}")
            sample_grid(netG, fixed_noise, f"{opt.outf}/fake_it{iters:06d}.png")
        iters += 1
    torch.save({"G": netG.state_dict(), "D": netD.state_dict()}, f"{opt.outf}/ckpt_{epoch}.pth")
