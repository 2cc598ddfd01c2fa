"""A VAE trainer (an nn.Module itself) samples reconstructions from both the EMA copy and the
live model in a loop over the two; every training step starts with self.vae.train()."""
import torch
import torch.nn as nn


class Trainer(nn.Module):
    def __init__(self, vae, ema_vae, loader):
        super().__init__()
        self.vae, self.ema_vae, self.dl = vae, ema_vae, loader
        self.optim = torch.optim.Adam(vae.parameters())
        self.steps = 0

    def train_step(self):
        self.vae.train()
        images = next(self.dl)
        loss = self.vae(images, return_loss=True)
        loss.backward()
        self.optim.step()
        self.optim.zero_grad()
        if self.steps % 100 == 0:
            for model, name in ((self.ema_vae.ema_model, "ema"), (self.vae, "live")):
                model.eval()
                recons = model(next(self.dl))
                torch.save(recons, f"{self.steps}.{name}.pt")
        self.steps += 1

    def train(self, mode=True):
        super().train(mode)
        return self

    def fit(self, num_steps):
        for _ in range(num_steps):
            self.train_step()
