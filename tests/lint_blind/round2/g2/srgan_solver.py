"""SRGAN-style 4x super-resolution: SRResNet generator + VGG-style critic."""
import os

import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.utils import save_image

from sr_data import PairedPatchDataset, load_eval_crops
from perceptual import VGGFeatureLoss


class ResBlock(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(ch, ch, 3, padding=1), nn.BatchNorm2d(ch), nn.PReLU(),
            nn.Conv2d(ch, ch, 3, padding=1), nn.BatchNorm2d(ch))

    def forward(self, x):
        return x + self.body(x)


class SRResNet(nn.Module):
    def __init__(self, n_blocks=16, ch=64):
        super().__init__()
        self.head = nn.Sequential(nn.Conv2d(3, ch, 9, padding=4), nn.PReLU())
        self.trunk = nn.Sequential(*[ResBlock(ch) for _ in range(n_blocks)])
        self.fuse = nn.Sequential(nn.Conv2d(ch, ch, 3, padding=1), nn.BatchNorm2d(ch))
        ups = []
        for _ in range(2):
            ups += [nn.Conv2d(ch, ch * 4, 3, padding=1), nn.PixelShuffle(2), nn.PReLU()]
        self.up = nn.Sequential(*ups)
        self.tail = nn.Conv2d(ch, 3, 9, padding=4)

    def forward(self, lr):
        h = self.head(lr)
        h = h + self.fuse(self.trunk(h))
        return torch.tanh(self.tail(self.up(h)))


class Critic(nn.Module):
    def __init__(self, ch=64):
        super().__init__()
        layers, c_in = [], 3
        for i, c_out in enumerate([ch, ch, ch * 2, ch * 2, ch * 4, ch * 4, ch * 8, ch * 8]):
            layers.append(nn.Conv2d(c_in, c_out, 3, stride=1 + (i % 2), padding=1))
            if i > 0:
                layers.append(nn.BatchNorm2d(c_out))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            c_in = c_out
        self.features = nn.Sequential(*layers)
        self.cls = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                                 nn.Linear(c_in, 1024), nn.LeakyReLU(0.2), nn.Linear(1024, 1))

    def forward(self, x):
        return self.cls(self.features(x))


class SRGANSolver:
    def __init__(self, opt):
        self.opt = opt
        self.dev = torch.device(opt.device)
        self.G = SRResNet().to(self.dev)
        self.D = Critic().to(self.dev)
        self.g_optim = torch.optim.Adam(self.G.parameters(), lr=opt.lr, betas=(0.9, 0.999))
        self.d_optim = torch.optim.Adam(self.D.parameters(), lr=opt.lr, betas=(0.9, 0.999))
        self.content = VGGFeatureLoss(layer="relu5_4").to(self.dev)
        self.loader = torch.utils.data.DataLoader(
            PairedPatchDataset(opt.train_dir, scale=4, patch=96),
            batch_size=opt.batch_size, shuffle=True, num_workers=4, drop_last=True)
        self.preview_lr = load_eval_crops(opt.preview_dir, n=8).to(self.dev)

    def _critic_step(self, lr, hr):
        with torch.no_grad():
            fake = self.G(lr)
        real_logit, fake_logit = self.D(hr), self.D(fake)
        loss = (F.binary_cross_entropy_with_logits(real_logit, torch.ones_like(real_logit))
                + F.binary_cross_entropy_with_logits(fake_logit, torch.zeros_like(fake_logit)))
        self.d_optim.zero_grad()
        loss.backward()
        self.d_optim.step()
        return loss.item()

    def _generator_step(self, lr, hr):
        sr = self.G(lr)
        adv = self.D(sr)
        loss = (self.content(sr, hr)
                + 1e-3 * F.binary_cross_entropy_with_logits(adv, torch.ones_like(adv)))
        self.g_optim.zero_grad()
        loss.backward()
        self.g_optim.step()
        return loss.item()

    def _dump_preview(self, it):
        self.G.eval()  # expect: MG101
        with torch.no_grad():
            sr = self.G(self.preview_lr)
        up = F.interpolate(self.preview_lr, scale_factor=4, mode="bicubic")
        grid = torch.cat([up, sr], dim=0) * 0.5 + 0.5
        save_image(grid.clamp(0, 1), os.path.join(self.opt.out_dir, f"preview_{it:07d}.png"), nrow=8)

    def fit(self):
        self.G.train()
        self.D.train()
        it = 0
        for epoch in range(self.opt.epochs):
            for lr, hr in self.loader:
                lr, hr = lr.to(self.dev), hr.to(self.dev)
                d_loss = self._critic_step(lr, hr)
                g_loss = self._generator_step(lr, hr)
                it += 1
                if it % self.opt.log_every == 0:
                    print(f"[{epoch}:{it}] D {d_loss:.4f}  G {g_loss:.4f}")
                if it % self.opt.preview_every == 0:
                    self._dump_preview(it)
            torch.save({"G": self.G.state_dict(), "D": self.D.state_dict()},
                       os.path.join(self.opt.out_dir, "last.pt"))
