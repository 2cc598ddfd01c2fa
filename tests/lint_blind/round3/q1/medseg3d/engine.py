"""Training / validation steps for the 3D segmentation runs."""
import time

import numpy as np
import torch
import torch.nn.functional as F

from inference import sliding_window_predict


def dice_ce_loss(logits, target, num_classes, smooth=1e-5):
    ce = F.cross_entropy(logits, target)
    probs = torch.softmax(logits, dim=1)
    onehot = F.one_hot(target, num_classes).permute(0, 4, 1, 2, 3).float()
    dims = (0, 2, 3, 4)
    inter = (probs * onehot).sum(dims)
    denom = probs.sum(dims) + onehot.sum(dims)
    dice = (2 * inter + smooth) / (denom + smooth)
    return ce + (1 - dice[1:].mean())


def deep_supervision_loss(outputs, target, num_classes):
    if not isinstance(outputs, (list, tuple)):
        return dice_ce_loss(outputs, target, num_classes)
    weights = np.array([1 / (2 ** i) for i in range(len(outputs))])
    weights = weights / weights.sum()
    total = 0.0
    for w, out in zip(weights, outputs):
        if out.shape[2:] != target.shape[1:]:
            tgt = F.interpolate(target[:, None].float(), size=out.shape[2:], mode="nearest")[:, 0].long()
        else:
            tgt = target
        total = total + w * dice_ce_loss(out, tgt, num_classes)
    return total


def per_class_dice(pred, gt, num_classes):
    scores = []
    for c in range(1, num_classes):
        p, g = pred == c, gt == c
        if g.sum() == 0 and p.sum() == 0:
            scores.append(1.0)
            continue
        scores.append(float(2 * (p & g).sum()) / float(p.sum() + g.sum()))
    return scores


def evaluate_cases(net, cases, cfg, device):
    net.eval()  # expect: MG101
    all_scores = []
    with torch.no_grad():
        for case in cases:
            vol = case["image"].to(device, non_blocking=True)
            probs = sliding_window_predict(net, vol, tuple(cfg.patch_size), step=cfg.val_step,
                                           num_classes=cfg.num_classes)
            pred = probs.argmax(0).cpu().numpy()
            all_scores.append(per_class_dice(pred, case["label"].numpy(), cfg.num_classes))
    return float(np.mean(all_scores)), np.mean(all_scores, axis=0)


def train_one_epoch(net, loader, optimizer, scaler, scheduler, cfg, device, epoch,
                    val_cases=None, log=print, state=None):
    net.train()
    state = state if state is not None else {"step": 0, "best": 0.0}
    t0 = time.time()
    for it, batch in enumerate(loader):
        img = batch["image"].to(device, non_blocking=True)
        seg = batch["label"].to(device, non_blocking=True).long()
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device_type="cuda", dtype=torch.float16, enabled=cfg.amp):
            outs = net(img)
            loss = deep_supervision_loss(outs, seg, cfg.num_classes)
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(net.parameters(), 12.0)
        scaler.step(optimizer)
        scaler.update()
        scheduler.step()
        state["step"] += 1

        if it % cfg.log_every == 0:
            log(f"ep {epoch} it {it} loss {loss.item():.4f} lr {scheduler.get_last_lr()[0]:.2e} "
                f"({time.time() - t0:.1f}s)")

        # long epochs (250 iters x big patches): check progress a few times per epoch
        if val_cases and cfg.val_every_iters and state["step"] % cfg.val_every_iters == 0:
            mean_dice, _ = evaluate_cases(net, val_cases, cfg, device)
            log(f"[val @ step {state['step']}] mean dice {mean_dice:.4f}")
            if mean_dice > state["best"]:
                state["best"] = mean_dice
                torch.save({"model": net.state_dict(), "step": state["step"]}, cfg.out_dir + "/best.pt")
    return state
