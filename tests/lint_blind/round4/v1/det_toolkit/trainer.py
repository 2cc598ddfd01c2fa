"""Epoch-based trainer for the center-point detector (AMP, gradient clipping, best-mAP saving)."""
import os
import time

import torch
import torch.nn.functional as F
from torch.cuda.amp import GradScaler, autocast


def focal_heatmap_loss(pred_logits, gt, alpha=2, beta=4):
    pred = pred_logits.sigmoid().clamp(1e-4, 1 - 1e-4)
    pos = gt.eq(1).float()
    neg = 1.0 - pos
    pos_loss = torch.log(pred) * (1 - pred) ** alpha * pos
    neg_loss = torch.log(1 - pred) * pred ** alpha * (1 - gt) ** beta * neg
    num_pos = pos.sum().clamp(min=1.0)
    return -(pos_loss.sum() + neg_loss.sum()) / num_pos


def center_losses(out, batch):
    mask = batch["reg_mask"].unsqueeze(1).float()
    l_hm = focal_heatmap_loss(out["hm"], batch["hm"])
    l_wh = F.l1_loss(out["wh"] * mask, batch["wh"] * mask, reduction="sum") / (mask.sum() + 1e-4)
    l_off = F.l1_loss(out["reg"] * mask, batch["reg"] * mask, reduction="sum") / (mask.sum() + 1e-4)
    return {"hm": l_hm, "wh": 0.1 * l_wh, "off": l_off}


class DetTrainer:
    def __init__(self, model, train_loader, evaluator, optimizer, scheduler, device,
                 work_dir, epochs=140, eval_interval=5, log_every=50):
        self.model = model
        self.train_loader = train_loader
        self.evaluator = evaluator
        self.optimizer = optimizer
        self.scheduler = scheduler
        self.device = device
        self.work_dir = work_dir
        self.epochs = epochs
        self.eval_interval = eval_interval
        self.log_every = log_every
        self.scaler = GradScaler()
        self.best_map = 0.0
        os.makedirs(work_dir, exist_ok=True)

    def _train_epoch(self, epoch):
        self.model.train()
        t0 = time.time()
        for it, batch in enumerate(self.train_loader):
            batch = {k: v.to(self.device, non_blocking=True) for k, v in batch.items()}
            with autocast():
                out = self.model(batch["image"])
                losses = center_losses(out, batch)
                loss = sum(losses.values())
            self.optimizer.zero_grad(set_to_none=True)
            self.scaler.scale(loss).backward()
            self.scaler.unscale_(self.optimizer)
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), 35.0)
            self.scaler.step(self.optimizer)
            self.scaler.update()
            if it % self.log_every == 0:
                parts = " ".join(f"{k}={v.item():.3f}" for k, v in losses.items())
                print(f"[{epoch}][{it}/{len(self.train_loader)}] {parts} ({time.time() - t0:.0f}s)")
        self.scheduler.step()

    def fit(self):
        for epoch in range(self.epochs):
            self._train_epoch(epoch)
            if (epoch + 1) % self.eval_interval == 0 or epoch + 1 == self.epochs:
                mAP = self.evaluator.run(self.model)
                print(f"epoch {epoch}: mAP@0.5 = {mAP:.4f}")
                torch.save(self.model.state_dict(), os.path.join(self.work_dir, "latest.pth"))
                if mAP > self.best_map:
                    self.best_map = mAP
                    torch.save(self.model.state_dict(), os.path.join(self.work_dir, "best.pth"))
        return self.best_map
