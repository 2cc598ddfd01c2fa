"""Iteration-based training engine with periodic evaluation and checkpointing."""
import logging
import os

import torch

from .losses import FCOSLoss

log = logging.getLogger(__name__)


class Engine:
    def __init__(self, model, optimizer, lr_sched, train_loader, evaluator, cfg):
        self.model = model
        self.optimizer = optimizer
        self.lr_sched = lr_sched
        self.train_loader = train_loader
        self.evaluator = evaluator
        self.cfg = cfg
        self.criterion = FCOSLoss(strides=model.strides)
        self.scaler = torch.cuda.amp.GradScaler(enabled=cfg.amp)
        self.best = 0.0
        self.global_step = 0

    def _step(self, images, targets):
        with torch.autocast("cuda", enabled=self.cfg.amp):
            losses = self.criterion(self.model(images), targets)
            total = sum(losses.values())
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(total).backward()
        self.scaler.unscale_(self.optimizer)
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 10.0)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.lr_sched.step()
        return {k: v.item() for k, v in losses.items()}

    def _maybe_evaluate(self):
        if self.global_step % self.cfg.eval_every:
            return
        metrics = self.evaluator(self.model)
        log.info("step %d  mAP50 %.4f", self.global_step, metrics["mAP50"])
        if metrics["mAP50"] > self.best:
            self.best = metrics["mAP50"]
            torch.save(self.model.state_dict(), os.path.join(self.cfg.out_dir, "best.pth"))

    def run(self):
        for epoch in range(self.cfg.epochs):
            self.model.train()
            for images, targets, _ in self.train_loader:
                images = images.cuda(non_blocking=True)
                targets = [{k: v.cuda() for k, v in t.items()} for t in targets]
                stats = self._step(images, targets)
                self.global_step += 1
                if self.global_step % 50 == 0:
                    log.info("ep %d it %d %s", epoch, self.global_step, stats)
                self._maybe_evaluate()
        torch.save(self.model.state_dict(), os.path.join(self.cfg.out_dir, "final.pth"))
