import time

import torch
import torch.nn.functional as F

from evaluate import sliding_window_dice
from utils import AverageMeter, save_checkpoint


def dice_ce_loss(logits, target, n_classes, eps=1e-5):
    ce = F.cross_entropy(logits, target)
    prob = torch.softmax(logits, 1)
    onehot = F.one_hot(target, n_classes).permute(0, 4, 1, 2, 3).float()
    inter = (prob * onehot).sum((2, 3, 4))
    denom = prob.sum((2, 3, 4)) + onehot.sum((2, 3, 4))
    dice = 1 - ((2 * inter + eps) / (denom + eps))[:, 1:].mean()
    return ce + dice


def train_one_epoch(net, loader, opt, scaler, epoch, cfg, val_loader=None, state=None):
    net.train()
    meter = AverageMeter()
    t0 = time.time()
    for it, batch in enumerate(loader):
        img = batch["image"].to(cfg["device"], non_blocking=True)
        lbl = batch["label"].to(cfg["device"], non_blocking=True).squeeze(1).long()
        with torch.autocast("cuda", dtype=torch.float16):
            logits = net(img)
            loss = dice_ce_loss(logits.float(), lbl, cfg["num_classes"])
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.unscale_(opt)
        torch.nn.utils.clip_grad_norm_(net.parameters(), 12.0)
        scaler.step(opt)
        scaler.update()
        meter.update(loss.item(), img.size(0))

        global_it = epoch * len(loader) + it
        if val_loader is not None and global_it > 0 and global_it % cfg["val_every"] == 0:
            mdice, per_class = sliding_window_dice(net, val_loader, cfg["roi"], cfg["num_classes"], cfg["device"])
            print(f"  it {global_it}: val mean dice {mdice:.4f}")
            if state is not None and mdice > state.get("best", -1):
                state["best"] = mdice
                save_checkpoint({"model": net.state_dict(), "dice": mdice, "it": global_it},
                                cfg["out_dir"], "best.pt")
    print(f"epoch {epoch}: loss {meter.avg:.4f} ({time.time() - t0:.0f}s)")
    return meter.avg
