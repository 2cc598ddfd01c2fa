"""Iteration-based runner with priority-ordered hooks (mmcv-style, heavily trimmed)."""
import bisect
import os
import os.path as osp

import torch


class Hook:
    priority = 50

    def before_run(self, runner): pass
    def before_iter(self, runner): pass
    def after_iter(self, runner): pass
    def after_run(self, runner): pass


class LrWarmupHook(Hook):
    priority = 10

    def __init__(self, warmup_iters=1000, ratio=1e-3):
        self.warmup_iters, self.ratio = warmup_iters, ratio

    def before_run(self, runner):
        self.base = [g["lr"] for g in runner.optimizer.param_groups]

    def before_iter(self, runner):
        if runner.iter >= self.warmup_iters:
            return
        k = self.ratio + (1 - self.ratio) * runner.iter / self.warmup_iters
        for g, lr in zip(runner.optimizer.param_groups, self.base):
            g["lr"] = lr * k


class CheckpointHook(Hook):
    priority = 70

    def __init__(self, interval, out_dir, keep=3):
        self.interval, self.out_dir, self.keep = interval, out_dir, keep
        self.saved = []

    def after_iter(self, runner):
        if (runner.iter + 1) % self.interval:
            return
        os.makedirs(self.out_dir, exist_ok=True)
        path = osp.join(self.out_dir, f"iter_{runner.iter + 1}.pth")
        torch.save({"model": runner.model.state_dict(),
                    "optimizer": runner.optimizer.state_dict(),
                    "iter": runner.iter + 1}, path)
        self.saved.append(path)
        while len(self.saved) > self.keep:
            os.remove(self.saved.pop(0))


class IterEvalHook(Hook):
    priority = 60

    def __init__(self, loader, metric_fn, interval=2000):
        self.loader, self.metric_fn, self.interval = loader, metric_fn, interval

    def after_iter(self, runner):
        if (runner.iter + 1) % self.interval:
            return
        model = runner.model
        prev_mode = model.training
        model.eval()
        try:
            outs, targets = [], []
            with torch.inference_mode():
                for data in self.loader:
                    outs.append(model(data["img"].to(runner.device)).cpu())
                    targets.append(data["gt"])
            runner.log_buffer.update(self.metric_fn(torch.cat(outs), torch.cat(targets)))
        finally:
            model.train(prev_mode)


class IterRunner:
    def __init__(self, model, optimizer, loss_fn, device="cuda", max_iters=80_000):
        self.model = model.to(device)
        self.optimizer = optimizer
        self.loss_fn = loss_fn
        self.device = device
        self.max_iters = max_iters
        self.iter = 0
        self.log_buffer = {}
        self._hooks, self._prio = [], []

    def register_hook(self, hook):
        i = bisect.bisect_right(self._prio, hook.priority)
        self._prio.insert(i, hook.priority)
        self._hooks.insert(i, hook)

    def call_hook(self, name):
        for h in self._hooks:
            getattr(h, name)(self)

    def run(self, loader):
        self.call_hook("before_run")
        self.model.train()
        data_iter = iter(loader)
        while self.iter < self.max_iters:
            try:
                data = next(data_iter)
            except StopIteration:
                data_iter = iter(loader)
                data = next(data_iter)
            self.call_hook("before_iter")
            pred = self.model(data["img"].to(self.device))
            loss = self.loss_fn(pred, data["gt"].to(self.device))
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            self.call_hook("after_iter")
            self.iter += 1
        self.call_hook("after_run")
