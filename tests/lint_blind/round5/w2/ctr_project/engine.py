"""Training engine: one epoch of CTR training with periodic in-epoch validation."""
import logging
import time

import torch
import torch.nn.functional as F

from metrics import run_validation

logger = logging.getLogger(__name__)


def train_one_epoch(model, loader, optimizer, scaler, device, epoch, cfg, val_loader=None, on_eval=None):
    model.train()
    seen, t0 = 0, time.time()
    for step, batch in enumerate(loader, start=1):
        sparse = batch["sparse"].to(device, non_blocking=True)
        dense = batch["dense"].to(device, non_blocking=True)
        label = batch["label"].to(device, non_blocking=True).float()

        with torch.autocast(device_type=device.type, enabled=cfg["amp"]):
            logits = model(sparse, dense)
            loss = F.binary_cross_entropy_with_logits(logits.float(), label)

        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg["clip"])
        scaler.step(optimizer)
        scaler.update()
        seen += label.numel()

        if step % cfg["log_every"] == 0:
            logger.info("epoch %d step %d loss %.5f  %.0f samples/s",
                        epoch, step, loss.item(), seen / (time.time() - t0))

        if val_loader is not None and step % cfg["val_every"] == 0:
            stats = run_validation(model, val_loader, device, max_batches=cfg["val_batches"])
            logger.info("epoch %d step %d val %s", epoch, step,
                        " ".join(f"{k}={v:.4f}" for k, v in stats.items()))
            if on_eval is not None:
                on_eval(epoch, step, stats)
    return seen
