"""Minimal hook-driven trainer for a two-stage detector.

Structure loosely follows the usual "trainer + hooks" layout: the trainer
owns the loop, hooks get called around every iteration.
"""
import logging
import time
import weakref

import torch

from detlite.config import get_cfg
from detlite.data import build_detection_train_loader, build_detection_test_loader
from detlite.modeling import build_model
from detlite.evaluation import COCOEvaluator
from detlite.solver import build_optimizer, build_lr_scheduler

logger = logging.getLogger("detlite.train")


class HookBase:
    trainer = None

    def before_train(self):
        pass

    def after_step(self):
        pass

    def after_train(self):
        pass


class IterTimer(HookBase):
    def __init__(self):
        self._t0 = None

    def before_train(self):
        self._t0 = time.perf_counter()

    def after_train(self):
        logger.info("total training time: %.1fs", time.perf_counter() - self._t0)


class PeriodicEval(HookBase):
    """Calls ``eval_function`` every ``period`` iterations and logs the result."""

    def __init__(self, period, eval_function):
        self._period = period
        self._func = eval_function

    def _do_eval(self):
        results = self._func()
        for task, metrics in results.items():
            for k, v in metrics.items():
                self.trainer.storage[f"{task}/{k}"] = v

    def after_step(self):
        nxt = self.trainer.iter + 1
        if self._period > 0 and nxt % self._period == 0 and nxt != self.trainer.max_iter:
            self._do_eval()

    def after_train(self):
        self._do_eval()


def inference_on_dataset(model, loader, evaluator):
    evaluator.reset()
    model.eval()  # expect: MG101
    with torch.no_grad():
        for inputs in loader:
            outputs = model(inputs)
            evaluator.process(inputs, outputs)
    return evaluator.evaluate()


class SimpleTrainer:
    def __init__(self, model, data_loader, optimizer, scheduler, max_iter):
        self.model = model
        self.data_loader = data_loader
        self.optimizer = optimizer
        self.scheduler = scheduler
        self.max_iter = max_iter
        self.iter = 0
        self.storage = {}
        self._hooks = []

    def register_hooks(self, hooks):
        for h in hooks:
            h.trainer = weakref.proxy(self)
            self._hooks.append(h)

    def run_step(self, data):
        loss_dict = self.model(data)
        losses = sum(loss_dict.values())
        self.optimizer.zero_grad()
        losses.backward()
        self.optimizer.step()
        self.scheduler.step()
        self.storage["total_loss"] = losses.item()

    def train(self):
        self.model.train()
        for h in self._hooks:
            h.before_train()
        data_iter = iter(self.data_loader)
        for self.iter in range(self.max_iter):
            self.run_step(next(data_iter))
            for h in self._hooks:
                h.after_step()
        for h in self._hooks:
            h.after_train()


def main(config_file):
    cfg = get_cfg()
    cfg.merge_from_file(config_file)
    model = build_model(cfg).to(cfg.MODEL.DEVICE)
    optimizer = build_optimizer(cfg, model)
    scheduler = build_lr_scheduler(cfg, optimizer)
    train_loader = build_detection_train_loader(cfg)
    test_loader = build_detection_test_loader(cfg, cfg.DATASETS.TEST[0])
    evaluator = COCOEvaluator(cfg.DATASETS.TEST[0], output_dir=cfg.OUTPUT_DIR)

    trainer = SimpleTrainer(model, train_loader, optimizer, scheduler, cfg.SOLVER.MAX_ITER)
    trainer.register_hooks([
        IterTimer(),
        PeriodicEval(cfg.TEST.EVAL_PERIOD,
                     lambda: inference_on_dataset(model, test_loader, evaluator)),
    ])
    trainer.train()


if __name__ == "__main__":
    import sys
    main(sys.argv[1])
