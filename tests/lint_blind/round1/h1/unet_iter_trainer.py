"""Iteration-based trainer for a 2D U-Net (cell nuclei segmentation).

Validation runs every ``val_interval`` iterations, in the middle of an epoch,
so it hands the network back in whatever mode it found it.
"""
import logging
import os
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch.utils.tensorboard import SummaryWriter

from nuclei.losses import soft_dice_loss
from nuclei.models import UNet2D

log = logging.getLogger(__name__)


@dataclass
class TrainCfg:
    max_iters: int = 40000
    val_interval: int = 1000
    log_interval: int = 50
    lr: float = 3e-4
    out_dir: str = "runs/unet"
    amp: bool = True


class UNetTrainer:
    def __init__(self, cfg: TrainCfg, train_loader, val_loader, device="cuda"):
        self.cfg = cfg
        self.device = torch.device(device)
        self.unet = UNet2D(in_ch=1, n_classes=2, base=32, norm="batch").to(self.device)
        self.opt = torch.optim.AdamW(self.unet.parameters(), lr=cfg.lr, weight_decay=1e-4)
        self.sched = torch.optim.lr_scheduler.PolynomialLR(self.opt, total_iters=cfg.max_iters, power=0.9)
        self.scaler = torch.cuda.amp.GradScaler(enabled=cfg.amp)
        self.train_loader = train_loader
        self.val_loader = val_loader
        self.writer = SummaryWriter(cfg.out_dir)
        self.iteration = 0
        self.best_dice = 0.0

    def _loss(self, logits, mask):
        return F.cross_entropy(logits, mask) + soft_dice_loss(logits.softmax(1)[:, 1], (mask == 1).float())

    def _dice_on_val(self):
        was_training = self.unet.training
        self.unet.eval()
        inter = union = 0.0
        with torch.no_grad():
            for img, mask in self.val_loader:
                img, mask = img.to(self.device), mask.to(self.device)
                with torch.autocast("cuda", enabled=self.cfg.amp):
                    pred = self.unet(img).argmax(1)
                inter += ((pred == 1) & (mask == 1)).sum().item()
                union += (pred == 1).sum().item() + (mask == 1).sum().item()
        self.unet.train(was_training)
        return 2.0 * inter / max(union, 1.0)

    def _checkpoint(self, name):
        os.makedirs(self.cfg.out_dir, exist_ok=True)
        torch.save({"unet": self.unet.state_dict(), "opt": self.opt.state_dict(),
                    "iteration": self.iteration, "best_dice": self.best_dice},
                   os.path.join(self.cfg.out_dir, name))

    def _infinite(self):
        while True:
            for batch in self.train_loader:
                yield batch

    def fit(self):
        self.unet.train()
        for img, mask in self._infinite():
            if self.iteration >= self.cfg.max_iters:
                break
            img, mask = img.to(self.device), mask.to(self.device)
            with torch.autocast("cuda", enabled=self.cfg.amp):
                loss = self._loss(self.unet(img), mask)
            self.opt.zero_grad(set_to_none=True)
            self.scaler.scale(loss).backward()
            self.scaler.step(self.opt)
            self.scaler.update()
            self.sched.step()
            self.iteration += 1

            if self.iteration % self.cfg.log_interval == 0:
                self.writer.add_scalar("train/loss", loss.item(), self.iteration)
            if self.iteration % self.cfg.val_interval == 0:
                dice = self._dice_on_val()
                self.writer.add_scalar("val/dice", dice, self.iteration)
                log.info("iter %d  val dice %.4f", self.iteration, dice)
                if dice > self.best_dice:
                    self.best_dice = dice
                    self._checkpoint("best.pt")
        self._checkpoint("last.pt")
        return self.best_dice
