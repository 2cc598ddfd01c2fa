"""Generic supervised trainer shared by the experiments in configs/."""
import logging
import math
from dataclasses import dataclass, field
from typing import Callable, Dict, Optional

import torch
from torch import nn
from torch.utils.data import DataLoader

log = logging.getLogger(__name__)


@dataclass
class TrainConfig:
    max_epochs: int = 30
    lr: float = 3e-4
    weight_decay: float = 0.05
    grad_clip: Optional[float] = 1.0
    eval_interval: int = 1000
    amp: bool = True
    metrics: Dict[str, Callable] = field(default_factory=dict)


class Trainer:
    """Runs the optimisation loop; evaluation can be triggered at any step."""

    def __init__(self, network: nn.Module, loss_fn, cfg: TrainConfig, device="cuda"):
        self.network = network.to(device)
        self.loss_fn = loss_fn
        self.cfg = cfg
        self.device = device
        self.optimizer = torch.optim.AdamW(network.parameters(), lr=cfg.lr,
                                           weight_decay=cfg.weight_decay)
        self.scaler = torch.cuda.amp.GradScaler(enabled=cfg.amp)
        self.global_step = 0
        self.best_score = -math.inf

    def _to_device(self, batch):
        return {k: v.to(self.device, non_blocking=True) if torch.is_tensor(v) else v
                for k, v in batch.items()}

    def _compute(self, batch, grad: bool):
        with torch.set_grad_enabled(grad), torch.autocast("cuda", enabled=self.cfg.amp):
            out = self.network(batch["inputs"])
            loss = self.loss_fn(out, batch["targets"])
        return out, loss

    def evaluate(self, loader: DataLoader) -> Dict[str, float]:
        prev_mode = self.network.training
        self.network.eval()
        try:
            total, count = 0.0, 0
            outs, tgts = [], []
            for batch in loader:
                batch = self._to_device(batch)
                out, loss = self._compute(batch, grad=False)
                n = batch["targets"].shape[0]
                total += loss.item() * n
                count += n
                outs.append(out.float().cpu())
                tgts.append(batch["targets"].cpu())
        finally:
            self.network.train(prev_mode)
        outs, tgts = torch.cat(outs), torch.cat(tgts)
        result = {"loss": total / max(count, 1)}
        for name, fn in self.cfg.metrics.items():
            result[name] = float(fn(outs, tgts))
        return result

    def _maybe_checkpoint(self, scores, ckpt_path):
        key = next(iter(self.cfg.metrics), "loss")
        score = -scores["loss"] if key == "loss" else scores[key]
        if score > self.best_score:
            self.best_score = score
            torch.save({"model": self.network.state_dict(),
                        "optimizer": self.optimizer.state_dict(),
                        "step": self.global_step}, ckpt_path)
            log.info("new best %s=%.4f at step %d", key, scores[key], self.global_step)

    def fit(self, train_loader, val_loader, ckpt_path="checkpoint.pt"):
        self.network.train()
        for epoch in range(self.cfg.max_epochs):
            for batch in train_loader:
                batch = self._to_device(batch)
                _, loss = self._compute(batch, grad=True)
                self.optimizer.zero_grad(set_to_none=True)
                self.scaler.scale(loss).backward()
                if self.cfg.grad_clip:
                    self.scaler.unscale_(self.optimizer)
                    nn.utils.clip_grad_norm_(self.network.parameters(), self.cfg.grad_clip)
                self.scaler.step(self.optimizer)
                self.scaler.update()
                self.global_step += 1

                if self.global_step % self.cfg.eval_interval == 0:
                    scores = self.evaluate(val_loader)
                    log.info("step %d: %s", self.global_step, scores)
                    self._maybe_checkpoint(scores, ckpt_path)
            log.info("epoch %d finished (%d steps)", epoch, self.global_step)
        return self.best_score
