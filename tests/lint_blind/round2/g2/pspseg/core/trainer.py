"""Poly-LR iteration trainer with interleaved validation."""
import logging
import os

import torch

logger = logging.getLogger("pspseg")


class PolyTrainer:
    def __init__(self, model, optimizer, loader, evaluator, max_iters, val_interval, work_dir, power=0.9):
        self.model = model
        self.optimizer = optimizer
        self.loader = loader
        self.evaluator = evaluator
        self.max_iters = max_iters
        self.val_interval = val_interval
        self.work_dir = work_dir
        self.power = power
        self.base_lrs = [g["lr"] for g in optimizer.param_groups]

    def _set_lr(self, it):
        factor = (1 - it / self.max_iters) ** self.power
        for g, base in zip(self.optimizer.param_groups, self.base_lrs):
            g["lr"] = base * factor

    def _infinite(self):
        while True:
            for batch in self.loader:
                yield batch

    def fit(self):
        self.model.train()
        best = -1.0
        for it, (img, lbl) in zip(range(self.max_iters), self._infinite()):
            self._set_lr(it)
            _, loss = self.model(img.cuda(non_blocking=True), lbl.cuda(non_blocking=True))
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            if (it + 1) % 50 == 0:
                logger.info("iter %d/%d loss %.4f", it + 1, self.max_iters, loss.item())
            if (it + 1) % self.val_interval == 0:
                metrics = self.evaluator(self.model)
                logger.info("iter %d %s", it + 1, metrics)
                if metrics["mIoU"] > best:
                    best = metrics["mIoU"]
                    torch.save(self.model.state_dict(), os.path.join(self.work_dir, "best_miou.pth"))
        return best
