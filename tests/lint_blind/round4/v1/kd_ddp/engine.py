"""Training step and evaluation helpers shared by the distillation scripts."""
from contextlib import contextmanager

import torch
import torch.distributed as dist
import torch.nn.functional as F


@contextmanager
def inference_mode_of(module):
    """Put ``module`` in eval mode for the block and restore its previous mode afterwards."""
    previous = module.training
    module.eval()
    try:
        yield module
    finally:
        module.train(previous)


def kd_loss(s_logits, t_logits, targets, s_proj, t_feat, T=4.0, alpha=0.9, beta=50.0):
    soft = F.kl_div(F.log_softmax(s_logits / T, 1), F.softmax(t_logits / T, 1),
                    reduction="batchmean") * T * T
    hard = F.cross_entropy(s_logits, targets)
    feat = F.mse_loss(F.normalize(s_proj.flatten(2), dim=2), F.normalize(t_feat.flatten(2), dim=2))
    return alpha * soft + (1 - alpha) * hard + beta * feat


def train_step(ddp_model, batch, optimizer, scaler, device):
    images, targets = (t.to(device, non_blocking=True) for t in batch)
    with torch.autocast("cuda", dtype=torch.float16):
        s_logits, t_logits, s_proj, t_feat = ddp_model(images)
        loss = kd_loss(s_logits, t_logits, targets, s_proj, t_feat)
    optimizer.zero_grad(set_to_none=True)
    scaler.scale(loss).backward()
    scaler.step(optimizer)
    scaler.update()
    return loss.detach()


def top1(net, loader, device):
    hits = torch.zeros((), device=device)
    count = torch.zeros((), device=device)
    with inference_mode_of(net), torch.inference_mode():
        for images, targets in loader:
            logits = net(images.to(device, non_blocking=True))
            hits += (logits.argmax(1) == targets.to(device)).sum()
            count += targets.numel()
    return (hits / count).item()


def reduce_mean(t):
    if dist.is_available() and dist.is_initialized():
        t = t.clone()
        dist.all_reduce(t)
        t /= dist.get_world_size()
    return t
