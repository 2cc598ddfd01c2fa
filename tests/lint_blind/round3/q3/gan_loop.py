"""Non-saturating GAN with R1 penalty and a generator EMA (StyleGAN-like recipe, small scale)."""
import contextlib
import copy
import os

import torch
import torch.nn.functional as F
from torchvision.utils import save_image

from ganzoo import ResNetGenerator, ResNetDiscriminator  # BN in G, dropout-free D
from metrics import FIDScorer


@contextlib.contextmanager
def frozen_mode(*nets):
    saved = [n.training for n in nets]
    for n in nets:
        n.eval()
    try:
        yield
    finally:
        for n, s in zip(nets, saved):
            n.train(s)


class GANRun:
    def __init__(self, cfg, loader, device="cuda"):
        self.cfg, self.loader, self.device = cfg, loader, device
        self.G = ResNetGenerator(cfg.z_dim, cfg.ch).to(device)
        self.D = ResNetDiscriminator(cfg.ch).to(device)
        self.G_ema = copy.deepcopy(self.G).eval().requires_grad_(False)
        self.g_opt = torch.optim.Adam(self.G.parameters(), 2e-4, betas=(0.0, 0.99))
        self.d_opt = torch.optim.Adam(self.D.parameters(), 2e-4, betas=(0.0, 0.99))
        self.fid = FIDScorer(cfg.fid_stats, device=device)
        self.z_fixed = torch.randn(64, cfg.z_dim, device=device)
        self.kimg = 0

    @torch.no_grad()
    def _ema_step(self, beta=0.999):
        for pe, p in zip(self.G_ema.parameters(), self.G.parameters()):
            pe.lerp_(p, 1 - beta)
        for be, b in zip(self.G_ema.buffers(), self.G.buffers()):
            be.copy_(b)

    def _d_loss(self, real):
        real.requires_grad_(True)
        z = torch.randn(real.size(0), self.cfg.z_dim, device=self.device)
        with torch.no_grad():
            fake = self.G(z)
        d_real, d_fake = self.D(real), self.D(fake)
        loss = F.softplus(-d_real).mean() + F.softplus(d_fake).mean()
        grad, = torch.autograd.grad(d_real.sum(), real, create_graph=True)
        return loss + self.cfg.r1 * 0.5 * grad.pow(2).flatten(1).sum(1).mean()

    def _g_loss(self, n):
        z = torch.randn(n, self.cfg.z_dim, device=self.device)
        return F.softplus(-self.D(self.G(z))).mean()

    def _report(self, step):
        with torch.no_grad():
            save_image(self.G_ema(self.z_fixed) * 0.5 + 0.5,
                       os.path.join(self.cfg.out, f"ema_{step:07d}.png"), nrow=8)
        with frozen_mode(self.G), torch.no_grad():
            fid_raw = self.fid(lambda z: self.G(z), self.cfg.z_dim, n=10_000)
        with torch.no_grad():
            fid_ema = self.fid(lambda z: self.G_ema(z), self.cfg.z_dim, n=10_000)
        print(f"step {step}: FID raw {fid_raw:.2f} ema {fid_ema:.2f}")

    def run(self, steps):
        self.G.train()
        self.D.train()
        data = iter(self.loader)
        for step in range(1, steps + 1):
            try:
                real, _ = next(data)
            except StopIteration:
                data = iter(self.loader)
                real, _ = next(data)
            real = real.to(self.device)

            self.d_opt.zero_grad(set_to_none=True)
            self._d_loss(real).backward()
            self.d_opt.step()

            self.g_opt.zero_grad(set_to_none=True)
            self._g_loss(real.size(0)).backward()
            self.g_opt.step()
            self._ema_step()

            if step % self.cfg.report_every == 0:
                self._report(step)
