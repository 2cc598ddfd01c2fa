"""Iteration-based trainer for semantic segmentation (poly LR, periodic mIoU)."""
import math
import os
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from segkit.data import build_dataset
from segkit.metrics import fast_hist, per_class_iu
from segkit.models import build_segmentor


class SegTrainer:
    def __init__(self, cfg):
        self.cfg = cfg
        self.device = torch.device(cfg.device)
        self.net = build_segmentor(cfg.arch, num_classes=cfg.num_classes).to(self.device)
        self.optim = torch.optim.SGD(
            self.net.parameters(), lr=cfg.lr, momentum=0.9, weight_decay=cfg.wd
        )
        self.train_loader = DataLoader(
            build_dataset(cfg, "train"),
            batch_size=cfg.batch_size,
            shuffle=True,
            num_workers=cfg.workers,
            drop_last=True,
        )
        self.val_loader = DataLoader(
            build_dataset(cfg, "val"), batch_size=1, shuffle=False, num_workers=cfg.workers
        )
        self.iteration = 0
        self.best_miou = 0.0
        self.max_iter = cfg.epochs * len(self.train_loader)
        os.makedirs(cfg.out_dir, exist_ok=True)

    def _poly_lr(self):
        factor = (1.0 - self.iteration / self.max_iter) ** 0.9
        for group in self.optim.param_groups:
            group["lr"] = self.cfg.lr * factor
        return self.cfg.lr * factor

    def _score_val_split(self):
        self.net.eval()  # expect: MG101
        hist = np.zeros((self.cfg.num_classes, self.cfg.num_classes))
        with torch.no_grad():
            for img, lbl in self.val_loader:
                logits = self.net(img.to(self.device))
                pred = logits.argmax(1).cpu().numpy()
                hist += fast_hist(lbl.numpy().ravel(), pred.ravel(), self.cfg.num_classes)
        miou = float(np.nanmean(per_class_iu(hist)))
        if miou > self.best_miou:
            self.best_miou = miou
            torch.save(
                {"iteration": self.iteration, "state": self.net.state_dict()},
                os.path.join(self.cfg.out_dir, "best.pth"),
            )
        return miou

    def _one_epoch(self, epoch):
        self.net.train()
        tic = time.time()
        running = 0.0
        for i, (img, lbl) in enumerate(self.train_loader):
            img = img.to(self.device, non_blocking=True)
            lbl = lbl.to(self.device, non_blocking=True)
            lr = self._poly_lr()

            out = self.net(img)
            if out.shape[-2:] != lbl.shape[-2:]:
                out = F.interpolate(out, size=lbl.shape[-2:], mode="bilinear", align_corners=False)
            loss = F.cross_entropy(out, lbl, ignore_index=255)
            if not math.isfinite(loss.item()):
                raise RuntimeError(f"loss diverged at iteration {self.iteration}")

            self.optim.zero_grad(set_to_none=True)
            loss.backward()
            self.optim.step()
            self.iteration += 1
            running += loss.item()

            if self.iteration % self.cfg.log_interval == 0:
                print(
                    f"ep {epoch} it {self.iteration}/{self.max_iter} "
                    f"loss {running / self.cfg.log_interval:.4f} lr {lr:.2e} "
                    f"({time.time() - tic:.1f}s)"
                )
                running, tic = 0.0, time.time()

            if self.iteration % self.cfg.val_interval == 0:
                miou = self._score_val_split()
                print(f"[val] it {self.iteration} mIoU {miou:.4f} best {self.best_miou:.4f}")

    def fit(self):
        for epoch in range(self.cfg.epochs):
            self._one_epoch(epoch)
        torch.save(self.net.state_dict(), os.path.join(self.cfg.out_dir, "last.pth"))
