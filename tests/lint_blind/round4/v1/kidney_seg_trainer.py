"""Iteration-based trainer for 2D kidney/tumour segmentation (KiTS slices).

Validation runs every ``val_every`` iterations; every optimisation step puts the
network back into training mode itself, so the check can happen anywhere.
"""
import logging
import os
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch.cuda.amp import GradScaler, autocast

from kits.losses import DiceCELoss
from kits.metrics import per_class_dice

log = logging.getLogger(__name__)


@dataclass
class TrainCfg:
    max_iters: int = 60000
    val_every: int = 2000
    lr: float = 1e-2
    weight_decay: float = 3e-5
    amp: bool = True
    out_dir: str = "work_dirs/kits2d"
    num_classes: int = 3


class SegTrainer:
    def __init__(self, unet, train_iter, val_loader, cfg: TrainCfg, device="cuda"):
        self.unet = unet.to(device)
        self.train_iter = train_iter
        self.val_loader = val_loader
        self.cfg = cfg
        self.device = device
        self.criterion = DiceCELoss(num_classes=cfg.num_classes)
        self.opt = torch.optim.SGD(self.unet.parameters(), lr=cfg.lr, momentum=0.99,
                                   nesterov=True, weight_decay=cfg.weight_decay)
        self.sched = torch.optim.lr_scheduler.PolynomialLR(self.opt, cfg.max_iters, power=0.9)
        self.scaler = GradScaler(enabled=cfg.amp)
        self.best_dice = 0.0
        os.makedirs(cfg.out_dir, exist_ok=True)

    def step(self, batch):
        self.unet.train()
        img = batch["image"].to(self.device, non_blocking=True)
        seg = batch["label"].to(self.device, non_blocking=True)
        self.opt.zero_grad(set_to_none=True)
        with autocast(enabled=self.cfg.amp):
            logits = self.unet(img)
            loss = self.criterion(logits, seg)
        self.scaler.scale(loss).backward()
        self.scaler.unscale_(self.opt)
        torch.nn.utils.clip_grad_norm_(self.unet.parameters(), 12.0)
        self.scaler.step(self.opt)
        self.scaler.update()
        self.sched.step()
        return loss.detach()

    @torch.inference_mode()
    def validate(self):
        self.unet.eval()
        dices = []
        for batch in self.val_loader:
            img = batch["image"].to(self.device)
            seg = batch["label"].to(self.device)
            with autocast(enabled=self.cfg.amp):
                logits = self.unet(img)
            pred = F.one_hot(logits.argmax(1), self.cfg.num_classes).permute(0, 3, 1, 2)
            dices.append(per_class_dice(pred, seg, self.cfg.num_classes)[1:])
        return torch.stack(dices).mean(0)

    def save(self, name, it):
        torch.save({"iter": it, "model": self.unet.state_dict(), "opt": self.opt.state_dict(),
                    "scaler": self.scaler.state_dict(), "best_dice": self.best_dice},
                   os.path.join(self.cfg.out_dir, name))

    def run(self):
        running = 0.0
        for it in range(1, self.cfg.max_iters + 1):
            running += self.step(next(self.train_iter)).item()
            if it % 100 == 0:
                log.info("iter %d  loss %.4f  lr %.2e", it, running / 100,
                         self.opt.param_groups[0]["lr"])
                running = 0.0
            if it % self.cfg.val_every == 0:
                kidney, tumour = self.validate().tolist()
                mean_dice = (kidney + tumour) / 2
                log.info("iter %d  dice kidney %.4f tumour %.4f", it, kidney, tumour)
                self.save("latest.pth", it)
                if mean_dice > self.best_dice:
                    self.best_dice = mean_dice
                    self.save("best.pth", it)
        return self.best_dice
