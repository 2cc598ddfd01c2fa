import time

import torch

from knn_eval import knn_top1


def train_one_epoch(model, criterion, loader, optimizer, scheduler, epoch, cfg, knn_loaders=None, log=print):
    model.train()
    device = cfg.device
    t0 = time.time()
    for step, ((v1, v2), _) in enumerate(loader):
        v1, v2 = v1.to(device, non_blocking=True), v2.to(device, non_blocking=True)
        with torch.autocast("cuda", enabled=cfg.amp):
            loss = criterion(model(v1), model(v2))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        scheduler.step()

        if step % cfg.log_every == 0:
            log(f"ep {epoch} step {step}/{len(loader)} loss {loss.item():.4f} lr {scheduler.get_last_lr()[0]:.4g}"
                f" {time.time() - t0:.0f}s")
        if knn_loaders is not None and step > 0 and step % cfg.knn_every == 0:
            acc = knn_top1(model.encoder, *knn_loaders, device)
            log(f"ep {epoch} step {step} kNN top-1 {acc:.2f}")
    return loss.item()
