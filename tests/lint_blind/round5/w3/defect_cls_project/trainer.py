import os
import time

import numpy as np
import torch
import torch.nn as nn
from sklearn.metrics import f1_score


class Trainer:
    def __init__(self, model, train_loader, val_loader, cfg):
        self.model = model.to(cfg.device)
        self.train_loader, self.val_loader = train_loader, val_loader
        self.cfg = cfg
        self.optimizer = torch.optim.AdamW(model.param_groups(cfg.lr), weight_decay=cfg.weight_decay)
        self.scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(self.optimizer, T_max=cfg.epochs)
        pos_weight = torch.tensor(cfg.pos_weight, device=cfg.device) if cfg.pos_weight else None
        self.criterion = nn.BCEWithLogitsLoss(pos_weight=pos_weight)
        self.best_f1 = 0.0

    def _train_epoch(self, epoch):
        self.model.train()
        running, t0 = 0.0, time.time()
        for i, (images, targets) in enumerate(self.train_loader):
            images = images.to(self.cfg.device, non_blocking=True)
            targets = targets.to(self.cfg.device, non_blocking=True).float()
            loss = self.criterion(self.model(images), targets)
            self.optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(self.model.parameters(), 5.0)
            self.optimizer.step()
            running += loss.item()
            if i % self.cfg.log_every == 0:
                print(f"[{epoch}][{i}/{len(self.train_loader)}] loss {running / (i + 1):.4f}")
        self.scheduler.step()
        return running / len(self.train_loader), time.time() - t0

    def validate(self):
        self.model.eval()
        probs, gts = [], []
        with torch.no_grad():
            for images, targets in self.val_loader:
                probs.append(torch.sigmoid(self.model(images.to(self.cfg.device))).cpu().numpy())
                gts.append(targets.numpy())
        probs, gts = np.concatenate(probs), np.concatenate(gts)
        return f1_score(gts, probs > self.cfg.threshold, average="macro", zero_division=0)

    def fit(self):
        os.makedirs(self.cfg.out_dir, exist_ok=True)
        for epoch in range(self.cfg.epochs):
            loss, secs = self._train_epoch(epoch)
            f1 = self.validate()
            print(f"epoch {epoch}: train loss {loss:.4f} ({secs:.0f}s)  val macro-F1 {f1:.4f}")
            if f1 > self.best_f1:
                self.best_f1 = f1
                torch.save(self.model.state_dict(), os.path.join(self.cfg.out_dir, "best.pt"))
        return self.best_f1
