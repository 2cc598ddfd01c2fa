import logging
import os

import torch

logger = logging.getLogger(__name__)


class HookBase:
    def before_epoch(self, trainer): pass
    def after_step(self, trainer): pass
    def after_epoch(self, trainer): pass


class PolyLR(HookBase):
    def __init__(self, base_lr, max_iter, power=0.9, min_lr=1e-6):
        self.base_lr, self.max_iter, self.power, self.min_lr = base_lr, max_iter, power, min_lr

    def after_step(self, trainer):
        f = (1 - trainer.iter / self.max_iter) ** self.power
        for g in trainer.optimizer.param_groups:
            g["lr"] = max(self.base_lr * f, self.min_lr)


class PeriodicCheckpointer(HookBase):
    def __init__(self, out_dir, period):
        self.out_dir, self.period = out_dir, period
        os.makedirs(out_dir, exist_ok=True)

    def after_step(self, trainer):
        if (trainer.iter + 1) % self.period == 0:
            torch.save({"model": trainer.model.state_dict(), "iter": trainer.iter + 1},
                       os.path.join(self.out_dir, f"model_{trainer.iter + 1:07d}.pth"))


class EvalHook(HookBase):
    """Runs the evaluator every `period` iterations and keeps the best mIoU."""

    def __init__(self, period, evaluator, loader, out_dir=None):
        self.period, self.evaluator, self.loader = period, evaluator, loader
        self.out_dir = out_dir
        self.best = -1.0

    def _do_eval(self, trainer):
        res = self.evaluator.evaluate(trainer.model, self.loader)
        trainer.storage.update({f"val/{k}": v for k, v in res.items()})
        if res["mIoU"] > self.best and self.out_dir:
            self.best = res["mIoU"]
            torch.save(trainer.model.state_dict(), os.path.join(self.out_dir, "model_best.pth"))
            logger.info("new best mIoU %.4f at iter %d", self.best, trainer.iter + 1)

    def after_step(self, trainer):
        nxt = trainer.iter + 1
        if self.period > 0 and nxt % self.period == 0 and nxt != trainer.max_iter:
            self._do_eval(trainer)

    def after_epoch(self, trainer):
        if trainer.iter + 1 >= trainer.max_iter:
            self._do_eval(trainer)
