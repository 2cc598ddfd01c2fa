from __future__ import annotations

import time

import numpy as np
import torch
import torch.nn.functional as F


def confusion(pred: torch.Tensor, target: torch.Tensor, n: int, ignore: int = 255) -> torch.Tensor:
    keep = target != ignore
    idx = n * target[keep] + pred[keep]
    return torch.bincount(idx, minlength=n * n).view(n, n)


def evaluate(net, loader, n_classes, device, amp_dtype=torch.bfloat16):
    """Mean IoU / F1 on full tiles. Leaves the network in whatever mode it was in."""
    was_training = net.training
    net.eval()
    conf = torch.zeros(n_classes, n_classes, dtype=torch.long, device=device)
    try:
        with torch.inference_mode(), torch.autocast("cuda", dtype=amp_dtype):
            for img, lbl in loader:
                img = img.to(device, non_blocking=True).contiguous(memory_format=torch.channels_last)
                lbl = lbl.to(device, non_blocking=True)
                logits = net(img)
                logits = logits + net(img.flip(-1)).flip(-1)
                conf += confusion(logits.argmax(1), lbl, n_classes)
    finally:
        net.train(was_training)
    conf = conf.double()
    tp = conf.diag()
    iou = tp / (conf.sum(0) + conf.sum(1) - tp).clamp_min(1)
    f1 = 2 * tp / (conf.sum(0) + conf.sum(1)).clamp_min(1)
    return iou.mean().item(), f1.cpu().numpy()


def fit_one_epoch(net, loader, opt, sched, scaler, device, epoch, val_loader=None, val_every=0,
                  n_classes=6, on_eval=None):
    net.train()
    t0, losses = time.time(), []
    for it, (img, lbl) in enumerate(loader):
        img = img.to(device, non_blocking=True).contiguous(memory_format=torch.channels_last)
        lbl = lbl.to(device, non_blocking=True)
        with torch.autocast("cuda", dtype=torch.float16):
            loss = F.cross_entropy(net(img), lbl, ignore_index=255)
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        sched.step()
        losses.append(loss.item())
        if val_loader is not None and val_every and (it + 1) % val_every == 0:
            miou, f1 = evaluate(net, val_loader, n_classes, device)
            if on_eval is not None:
                on_eval(epoch, it, miou, f1)
    return float(np.mean(losses)), time.time() - t0
