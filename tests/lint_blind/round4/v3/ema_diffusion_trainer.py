"""Trainer for an epsilon-prediction diffusion model with an EMA copy.

The UNet is built by an external factory (dropout inside the residual blocks).
"""
import copy
import os

import torch
import torch.nn.functional as F
from accelerate import Accelerator

from unets import build_unet
from schedules import NoiseSchedule, ddim_sample


class EMA:
    def __init__(self, model, decay=0.9995, warmup=2000):
        self.shadow = copy.deepcopy(model)
        self.shadow.eval()
        self.shadow.requires_grad_(False)
        self.decay, self.warmup, self.num_updates = decay, warmup, 0

    @torch.no_grad()
    def step(self, model):
        self.num_updates += 1
        d = min(self.decay, (1 + self.num_updates) / (self.warmup + self.num_updates))
        for s, p in zip(self.shadow.parameters(), model.parameters()):
            s.lerp_(p.detach(), 1 - d)
        for s, b in zip(self.shadow.buffers(), model.buffers()):
            s.copy_(b)


class DiffusionTrainer:
    def __init__(self, cfg, train_ds, val_ds):
        self.cfg = cfg
        self.acc = Accelerator(mixed_precision="bf16", gradient_accumulation_steps=cfg.grad_accum)
        self.net = build_unet(cfg.unet)
        self.ema = EMA(self.net, cfg.ema_decay)
        self.sched = NoiseSchedule(cfg.timesteps)
        opt = torch.optim.AdamW(self.net.parameters(), lr=cfg.lr, weight_decay=0.0)
        tl = torch.utils.data.DataLoader(train_ds, cfg.batch_size, shuffle=True, num_workers=8, drop_last=True)
        vl = torch.utils.data.DataLoader(val_ds, cfg.batch_size, num_workers=4)
        self.net, self.opt, self.train_loader, self.val_loader = self.acc.prepare(self.net, opt, tl, vl)
        self.ema.shadow.to(self.acc.device)
        self.step = 0

    def _loss(self, x0):
        t = torch.randint(0, self.cfg.timesteps, (x0.shape[0],), device=x0.device)
        noise = torch.randn_like(x0)
        return F.mse_loss(self.net(self.sched.add_noise(x0, noise, t), t), noise)

    @torch.no_grad()
    def val_loss(self, max_batches=50):
        was_training = self.net.training
        self.net.eval()
        tot, n = 0.0, 0
        for i, x0 in enumerate(self.val_loader):
            if i >= max_batches:
                break
            tot += self.acc.gather(self._loss(x0)).mean().item()
            n += 1
        self.net.train(was_training)
        return tot / max(n, 1)

    @torch.no_grad()
    def sample(self, n=16):
        x = torch.randn(n, *self.cfg.image_shape, device=self.acc.device)
        return ddim_sample(self.ema.shadow, self.sched, x, steps=50)

    def fit(self):
        self.net.train()
        while self.step < self.cfg.total_steps:
            for x0 in self.train_loader:
                with self.acc.accumulate(self.net):
                    loss = self._loss(x0)
                    self.acc.backward(loss)
                    if self.acc.sync_gradients:
                        self.acc.clip_grad_norm_(self.net.parameters(), 1.0)
                    self.opt.step()
                    self.opt.zero_grad()
                if self.acc.sync_gradients:
                    self.ema.step(self.acc.unwrap_model(self.net))
                    self.step += 1
                    if self.step % self.cfg.val_every == 0:
                        vl = self.val_loss()
                        self.acc.print(f"step {self.step} train {loss.item():.4f} val {vl:.4f}")
                    if self.step % self.cfg.sample_every == 0 and self.acc.is_main_process:
                        imgs = self.sample()
                        os.makedirs(self.cfg.out_dir, exist_ok=True)
                        torch.save(imgs.cpu(), os.path.join(self.cfg.out_dir, f"samples_{self.step}.pt"))
                if self.step >= self.cfg.total_steps:
                    break
        self.acc.wait_for_everyone()
        if self.acc.is_main_process:
            torch.save(self.ema.shadow.state_dict(), os.path.join(self.cfg.out_dir, "ema_final.pt"))
