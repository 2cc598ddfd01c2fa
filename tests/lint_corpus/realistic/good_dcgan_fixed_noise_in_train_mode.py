"""DCGAN: progress images from fixed noise are generated in training mode, as the original does."""
import torch
import torch.nn as nn


class Generator(nn.Module):
    def __init__(self, nz=100, ngf=64):
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False), nn.BatchNorm2d(ngf * 8), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 8, 3, 4, 2, 1, bias=False), nn.Tanh())

    def forward(self, z):
        return self.main(z)


class Discriminator(nn.Module):
    def __init__(self, ndf=64):
        super().__init__()
        self.main = nn.Sequential(nn.Conv2d(3, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, True),
                                  nn.Conv2d(ndf, 1, 4, 1, 0, bias=False), nn.Sigmoid())

    def forward(self, x):
        return self.main(x).view(-1)


def train(dataloader, num_epochs=5, nz=100):
    netG, netD = Generator(nz), Discriminator()
    criterion = nn.BCELoss()
    fixed_noise = torch.randn(64, nz, 1, 1)
    optimizerD = torch.optim.Adam(netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
    optimizerG = torch.optim.Adam(netG.parameters(), lr=2e-4, betas=(0.5, 0.999))
    img_list = []
    for epoch in range(num_epochs):
        for i, (real, _) in enumerate(dataloader):
            netD.zero_grad()
            noise = torch.randn(real.size(0), nz, 1, 1)
            fake = netG(noise)
            errD = criterion(netD(real), torch.ones(real.size(0))) + \
                criterion(netD(fake.detach()), torch.zeros(real.size(0)))
            errD.backward()
            optimizerD.step()
            netG.zero_grad()
            errG = criterion(netD(fake), torch.ones(real.size(0)))
            errG.backward()
            optimizerG.step()
            if i % 500 == 0:
                with torch.no_grad():
                    img_list.append(netG(fixed_noise).detach().cpu())
    return img_list
