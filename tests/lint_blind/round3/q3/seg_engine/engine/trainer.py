import logging
import time

import torch

logger = logging.getLogger(__name__)


class EpochTrainer:
    def __init__(self, model, optimizer, criterion, loader, max_iter, hooks=(), device="cuda"):
        self.model = model
        self.optimizer = optimizer
        self.criterion = criterion
        self.loader = loader
        self.max_iter = max_iter
        self.device = device
        self.hooks = list(hooks)
        self.iter = 0
        self.storage = {}

    def register_hooks(self, hooks):
        self.hooks.extend(hooks)

    def run_step(self, img, target):
        t0 = time.perf_counter()
        img = img.to(self.device, non_blocking=True)
        target = target.to(self.device, non_blocking=True)
        loss = self.criterion(self.model(img), target)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.storage["loss"] = loss.item()
        self.storage["time"] = time.perf_counter() - t0

    def train(self):
        logger.info("starting training for %d iterations", self.max_iter)
        epoch = 0
        while self.iter < self.max_iter:
            self.model.train()
            for h in self.hooks:
                h.before_epoch(self)
            for img, target in self.loader:
                self.run_step(img, target)
                for h in self.hooks:
                    h.after_step(self)
                if self.iter % 20 == 0:
                    logger.info("ep %d it %d loss %.4f", epoch, self.iter, self.storage["loss"])
                self.iter += 1
                if self.iter >= self.max_iter:
                    break
            for h in self.hooks:
                h.after_epoch(self)
            epoch += 1
