import contextlib
import logging
from dataclasses import dataclass

import torch
import torch.nn as nn
from torch import autograd

from metrics.fid import FIDTracker
from data import infinite_loader

logger = logging.getLogger(__name__)


@dataclass
class Cfg:
    z_dim: int = 128
    n_critic: int = 5
    gp: float = 10.0
    iters: int = 100_000
    batch: int = 64
    fid_every: int = 5_000
    fid_samples: int = 10_000


class ResGen(nn.Module):
    def __init__(self, z_dim=128, ch=256):
        super().__init__()
        self.fc = nn.Linear(z_dim, 4 * 4 * ch)
        blocks = []
        for _ in range(3):
            blocks += [nn.BatchNorm2d(ch), nn.ReLU(), nn.Upsample(scale_factor=2), nn.Conv2d(ch, ch, 3, padding=1)]
        self.blocks = nn.Sequential(*blocks)
        self.out = nn.Sequential(nn.BatchNorm2d(ch), nn.ReLU(), nn.Conv2d(ch, 3, 3, padding=1), nn.Tanh())
        self.ch = ch

    def forward(self, z):
        return self.out(self.blocks(self.fc(z).view(-1, self.ch, 4, 4)))


class Critic(nn.Module):
    # no batch norm in the critic: it would break the per-sample gradient penalty
    def __init__(self, ch=128):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(3, ch, 3, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(ch, ch * 2, 3, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(ch * 2, ch * 4, 3, 2, 1), nn.LeakyReLU(0.2),
            nn.Flatten(), nn.Linear(ch * 4 * 16, 1))

    def forward(self, x):
        return self.net(x).squeeze(1)


@contextlib.contextmanager
def evaluating(*nets):
    modes = [n.training for n in nets]
    try:
        for n in nets:
            n.eval()
        yield
    finally:
        for n, m in zip(nets, modes):
            n.train(m)


def penalty(critic, real, fake):
    eps = torch.rand(real.size(0), 1, 1, 1, device=real.device)
    x = (eps * real + (1 - eps) * fake).requires_grad_(True)
    g = autograd.grad(critic(x).sum(), x, create_graph=True)[0]
    return ((g.flatten(1).norm(dim=1) - 1) ** 2).mean()


def train(cfg: Cfg, data_dir: str, device="cuda"):
    gen, critic = ResGen(cfg.z_dim).to(device), Critic().to(device)
    opt_g = torch.optim.Adam(gen.parameters(), 2e-4, betas=(0.0, 0.9))
    opt_c = torch.optim.Adam(critic.parameters(), 2e-4, betas=(0.0, 0.9))
    fid = FIDTracker(ref_stats=f"{data_dir}/fid_stats.npz", device=device)
    batches = infinite_loader(data_dir, cfg.batch)

    gen.train()
    critic.train()
    for it in range(1, cfg.iters + 1):
        for _ in range(cfg.n_critic):
            real = next(batches).to(device)
            with torch.no_grad():
                fake = gen(torch.randn(real.size(0), cfg.z_dim, device=device))
            loss_c = critic(fake).mean() - critic(real).mean() + cfg.gp * penalty(critic, real, fake)
            opt_c.zero_grad()
            loss_c.backward()
            opt_c.step()

        loss_g = -critic(gen(torch.randn(cfg.batch, cfg.z_dim, device=device))).mean()
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()

        if it % cfg.fid_every == 0:
            with evaluating(gen), torch.no_grad():
                score = fid.score(lambda n: gen(torch.randn(n, cfg.z_dim, device=device)), cfg.fid_samples)
            logger.info("it %d  critic %.3f  gen %.3f  FID %.2f", it, loss_c.item(), loss_g.item(), score)
    return gen
