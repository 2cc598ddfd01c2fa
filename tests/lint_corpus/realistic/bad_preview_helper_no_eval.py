"""Training a convolutional image denoiser that logs denoised previews to TensorBoard every few hundred steps.

The preview helper turns off gradients but not training mode, so the previews are produced with
Dropout active and BatchNorm normalising by the preview batch (and updating its running stats).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.tensorboard import SummaryWriter


class DnCNN(nn.Module):
    def __init__(self, channels=3, width=64, depth=12):
        super().__init__()
        layers = [nn.Conv2d(channels, width, 3, padding=1), nn.ReLU(inplace=True)]
        for _ in range(depth - 2):
            layers += [nn.Conv2d(width, width, 3, padding=1, bias=False),
                       nn.BatchNorm2d(width), nn.ReLU(inplace=True)]
        layers += [nn.Dropout2d(0.1), nn.Conv2d(width, channels, 3, padding=1)]
        self.body = nn.Sequential(*layers)

    def forward(self, noisy):
        return noisy - self.body(noisy)


class DenoiserTrainer:
    def __init__(self, loader, preview_batch, sigma=25 / 255, log_dir="runs/dncnn", preview_every=250):
        self.net = DnCNN()
        self.opt = torch.optim.Adam(self.net.parameters(), lr=1e-3)
        self.loader = loader
        self.preview_clean = preview_batch
        self.preview_noisy = preview_batch + sigma * torch.randn_like(preview_batch)
        self.sigma = sigma
        self.writer = SummaryWriter(log_dir)
        self.preview_every = preview_every
        self.step = 0

    def _log_previews(self):
        with torch.no_grad():
            restored = self.net(self.preview_noisy).clamp(0, 1)  # expect: MG102
        psnr = -10 * torch.log10(F.mse_loss(restored, self.preview_clean))
        self.writer.add_images("preview/noisy", self.preview_noisy.clamp(0, 1), self.step)
        self.writer.add_images("preview/restored", restored, self.step)
        self.writer.add_scalar("preview/psnr", psnr.item(), self.step)

    def train(self, epochs):
        self.net.train()
        for _ in range(epochs):
            for clean in self.loader:
                noisy = clean + self.sigma * torch.randn_like(clean)
                loss = F.mse_loss(self.net(noisy), clean)
                self.opt.zero_grad()
                loss.backward()
                self.opt.step()
                self.step += 1
                if self.step % self.preview_every == 0:
                    self._log_previews()
        self.writer.close()
