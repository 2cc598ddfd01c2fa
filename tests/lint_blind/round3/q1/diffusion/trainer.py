"""Step-based trainer for the class-conditional DDPM.

    python trainer.py --data /datasets/cifar10 --steps 400000 --out runs/cfg_c10
"""
import argparse
import contextlib
import os

import torch
from torch.utils.data import DataLoader
from torchvision.utils import save_image

from data import build_dataset, infinite
from ema import EMA
from model import UNet
from sampler import GaussianDiffusion


@contextlib.contextmanager
def evaluating(module):
    prev = module.training
    module.eval()
    try:
        yield module
    finally:
        module.train(prev)


class DiffusionTrainer:
    def __init__(self, cfg):
        self.cfg = cfg
        self.device = torch.device("cuda")
        self.net = UNet(num_classes=cfg.num_classes, dropout=cfg.dropout, p_uncond=cfg.p_uncond).to(self.device)
        self.ema = EMA(self.net, beta=cfg.ema_beta).to(self.device)
        self.diffusion = GaussianDiffusion(cfg.T)
        self.opt = torch.optim.AdamW(self.net.parameters(), lr=cfg.lr, weight_decay=0.0)
        self.loader = infinite(DataLoader(build_dataset(cfg.data, train=True), batch_size=cfg.batch_size,
                                          shuffle=True, num_workers=8, drop_last=True))
        self.val_loader = DataLoader(build_dataset(cfg.data, train=False), batch_size=256)
        self.sample_labels = torch.arange(cfg.num_classes, device=self.device).repeat_interleave(8)
        os.makedirs(cfg.out, exist_ok=True)

    def _val_loss(self, n_batches=20):
        losses = []
        g = torch.Generator(device=self.device).manual_seed(0)
        with evaluating(self.net), torch.no_grad():
            for i, (x, y) in enumerate(self.val_loader):
                if i == n_batches:
                    break
                x, y = x.to(self.device), y.to(self.device)
                torch.manual_seed(i)
                losses.append(self.diffusion.training_loss(self.net, x, y).item())
        return sum(losses) / len(losses)

    def _snapshot(self, step):
        shape = (len(self.sample_labels), 3, self.cfg.img, self.cfg.img)
        kw = dict(steps=self.cfg.sample_steps, guidance=self.cfg.guidance,
                  null_label=self.cfg.num_classes)
        imgs = self.diffusion.ddim_sample(self.ema, self.sample_labels, shape, **kw)
        save_image(imgs * 0.5 + 0.5, f"{self.cfg.out}/ema_{step:07d}.png", nrow=16)
        if self.cfg.compare_online:
            self.net.eval()  # expect: MG101
            imgs = self.diffusion.ddim_sample(self.net, self.sample_labels, shape, **kw)
            save_image(imgs * 0.5 + 0.5, f"{self.cfg.out}/online_{step:07d}.png", nrow=16)

    def run(self):
        self.net.train()
        for step in range(1, self.cfg.steps + 1):
            x, y = next(self.loader)
            x, y = x.to(self.device), y.to(self.device)
            loss = self.diffusion.training_loss(self.net, x, y)
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(self.net.parameters(), 1.0)
            self.opt.step()
            self.ema.update()

            if step % self.cfg.log_every == 0:
                print(f"step {step} loss {loss.item():.4f} ema-decay {self.ema.decay():.5f}")
            if step % self.cfg.val_every == 0:
                print(f"step {step} val-loss {self._val_loss():.4f}")
            if step % self.cfg.sample_every == 0:
                self._snapshot(step)
            if step % self.cfg.ckpt_every == 0:
                torch.save({"net": self.net.state_dict(), "ema": self.ema.state_dict(),
                            "opt": self.opt.state_dict(), "step": step},
                           f"{self.cfg.out}/ckpt.pt")


def parse():
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--num_classes", type=int, default=10)
    p.add_argument("--img", type=int, default=32)
    p.add_argument("--T", type=int, default=1000)
    p.add_argument("--steps", type=int, default=400_000)
    p.add_argument("--batch_size", type=int, default=128)
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--p_uncond", type=float, default=0.1)
    p.add_argument("--ema_beta", type=float, default=0.9999)
    p.add_argument("--guidance", type=float, default=2.0)
    p.add_argument("--sample_steps", type=int, default=100)
    p.add_argument("--compare_online", action="store_true",
                   help="also sample from the raw (non-EMA) weights")
    p.add_argument("--log_every", type=int, default=100)
    p.add_argument("--val_every", type=int, default=5000)
    p.add_argument("--sample_every", type=int, default=10000)
    p.add_argument("--ckpt_every", type=int, default=10000)
    return p.parse_args()


if __name__ == "__main__":
    DiffusionTrainer(parse()).run()
