import os

import torch
import torch.nn as nn
from torchvision.utils import save_image


def _init(m):
    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(m.weight, 0.0, 0.02)
    elif isinstance(m, nn.BatchNorm2d):
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


class Generator(nn.Module):
    def __init__(self, nz=128, ngf=64, nc=3):
        super().__init__()
        def up(i, o):
            return [nn.ConvTranspose2d(i, o, 4, 2, 1, bias=False), nn.BatchNorm2d(o), nn.ReLU(True)]
        self.net = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False), nn.BatchNorm2d(ngf * 8), nn.ReLU(True),
            *up(ngf * 8, ngf * 4), *up(ngf * 4, ngf * 2), *up(ngf * 2, ngf),
            nn.ConvTranspose2d(ngf, nc, 4, 2, 1), nn.Tanh())

    def forward(self, z):
        return self.net(z.view(z.size(0), -1, 1, 1))


class Discriminator(nn.Module):
    def __init__(self, ndf=64, nc=3):
        super().__init__()
        def down(i, o):
            return [nn.Conv2d(i, o, 4, 2, 1, bias=False), nn.BatchNorm2d(o), nn.LeakyReLU(0.2, True)]
        self.net = nn.Sequential(
            nn.Conv2d(nc, ndf, 4, 2, 1), nn.LeakyReLU(0.2, True),
            *down(ndf, ndf * 2), *down(ndf * 2, ndf * 4), *down(ndf * 4, ndf * 8),
            nn.Conv2d(ndf * 8, 1, 4, 1, 0))

    def forward(self, x):
        return self.net(x).view(-1)


class GANTrainer:
    def __init__(self, loader, out_dir, nz=128, lr=2e-4, device="cuda", sample_every=500):
        self.loader = loader
        self.out_dir = out_dir
        self.nz = nz
        self.device = device
        self.sample_every = sample_every
        self.G = Generator(nz).to(device).apply(_init)
        self.D = Discriminator().to(device).apply(_init)
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=lr, betas=(0.5, 0.999))
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=lr, betas=(0.5, 0.999))
        self.bce = nn.BCEWithLogitsLoss()
        self.fixed_z = torch.randn(64, nz, device=device)
        self.it = 0
        os.makedirs(out_dir, exist_ok=True)

    def _snapshot(self):
        self.G.eval()  # expect: MG101
        with torch.no_grad():
            fake = self.G(self.fixed_z)
        save_image(fake * 0.5 + 0.5, os.path.join(self.out_dir, f"it{self.it:07d}.png"), nrow=8)
        self.D.train()

    def _d_step(self, real):
        z = torch.randn(real.size(0), self.nz, device=self.device)
        fake = self.G(z).detach()
        lr_, lf_ = self.D(real), self.D(fake)
        loss = self.bce(lr_, torch.ones_like(lr_)) + self.bce(lf_, torch.zeros_like(lf_))
        self.opt_d.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_d.step()
        return loss.item()

    def _g_step(self, bs):
        z = torch.randn(bs, self.nz, device=self.device)
        logits = self.D(self.G(z))
        loss = self.bce(logits, torch.ones_like(logits))
        self.opt_g.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_g.step()
        return loss.item()

    def train(self, epochs):
        for ep in range(epochs):
            self.G.train()
            self.D.train()
            for real, _ in self.loader:
                real = real.to(self.device)
                ld = self._d_step(real)
                lg = self._g_step(real.size(0))
                self.it += 1
                if self.it % 100 == 0:
                    print(f"ep {ep} it {self.it} D {ld:.3f} G {lg:.3f}")
                if self.it % self.sample_every == 0:
                    self._snapshot()
            torch.save({"G": self.G.state_dict(), "D": self.D.state_dict()},
                       os.path.join(self.out_dir, "last.pt"))
