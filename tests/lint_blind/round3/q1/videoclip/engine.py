import math
import sys
from collections import defaultdict

import torch
import torch.nn.functional as F

import dist_utils


def train_one_epoch(model, criterion, loader, optimizer, lr_schedule, epoch, mixup_fn=None,
                    clip_grad=None, print_freq=50):
    model.train()
    meter = dist_utils.MetricLogger()
    for it, (clips, target, _) in enumerate(meter.log_every(loader, print_freq, f"Epoch [{epoch}]")):
        step = epoch * len(loader) + it
        for g in optimizer.param_groups:
            g["lr"] = lr_schedule[step] * g.get("lr_scale", 1.0)
        clips = clips.cuda(non_blocking=True)
        target = target.cuda(non_blocking=True)
        if mixup_fn is not None:
            clips, target = mixup_fn(clips, target)
        with torch.autocast("cuda", dtype=torch.bfloat16):
            logits = model(clips)
            loss = criterion(logits, target)
        if not math.isfinite(loss.item()):
            print(f"non-finite loss {loss.item()}, stopping")
            sys.exit(1)
        optimizer.zero_grad()
        loss.backward()
        if clip_grad:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip_grad)
        optimizer.step()
        meter.update(loss=loss.item(), lr=optimizer.param_groups[0]["lr"])
    meter.synchronize_between_processes()
    return {k: m.global_avg for k, m in meter.meters.items()}


@torch.inference_mode()
def evaluate_clips(model, loader):
    """Single centre clip per video (fast, used every epoch)."""
    model.eval()
    correct = total = 0
    for clips, target, _ in loader:
        clips, target = clips.cuda(non_blocking=True), target.cuda(non_blocking=True)
        with torch.autocast("cuda", dtype=torch.bfloat16):
            logits = model(clips)
        correct += (logits.argmax(-1) == target).sum().item()
        total += target.numel()
    stats = dist_utils.all_reduce_sum(torch.tensor([correct, total], device="cuda"))
    return (stats[0] / stats[1]).item()


def evaluate_views(model, loader, num_classes):
    """Multi-view testing: every video is sampled as (temporal clips x spatial crops) views
    and the softmax scores of all views are averaged before top-1/top-5."""
    model.eval()
    scores = defaultdict(lambda: torch.zeros(num_classes))
    labels = {}
    for clips, target, video_ids in loader:
        clips = clips.cuda(non_blocking=True)
        with torch.autocast("cuda", dtype=torch.bfloat16):
            logits = model(clips)  # expect: MG401
        probs = F.softmax(logits.float(), dim=-1).cpu()
        for vid, p, y in zip(video_ids, probs, target):
            scores[vid] += p
            labels[vid] = int(y)
    vids = sorted(scores)
    all_scores = torch.stack([scores[v] for v in vids])
    all_labels = torch.tensor([labels[v] for v in vids])
    top5 = all_scores.topk(5, dim=-1).indices
    top1_acc = (top5[:, 0] == all_labels).float().mean().item()
    top5_acc = (top5 == all_labels[:, None]).any(-1).float().mean().item()
    return {"top1": top1_acc, "top5": top5_acc, "videos": len(vids)}
