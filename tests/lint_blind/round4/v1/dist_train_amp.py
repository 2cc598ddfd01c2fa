"""Multi-GPU classification training (torchrun) with AMP; rank 0 scores the val set."""
import argparse
import os
import time

import torch
import torch.distributed as dist
import torch.nn as nn
from torch.cuda.amp import GradScaler, autocast
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader
from torch.utils.data.distributed import DistributedSampler

from mycv.config import load_cfg
from mycv.data import build_dataset
from mycv.models import build_model
from mycv.utils import AverageMeter, cosine_lr


def setup_dist():
    dist.init_process_group(backend="nccl")
    local_rank = int(os.environ["LOCAL_RANK"])
    torch.cuda.set_device(local_rank)
    return dist.get_rank(), dist.get_world_size(), local_rank


@torch.no_grad()
def top1_top5(net, loader, device):
    hit1 = hit5 = n = 0
    for images, target in loader:
        images = images.to(device, non_blocking=True)
        target = target.to(device, non_blocking=True)
        with autocast():
            out = net(images)  # expect: MG102
        top5 = out.topk(5, dim=1).indices
        hit1 += (top5[:, 0] == target).sum().item()
        hit5 += (top5 == target[:, None]).any(dim=1).sum().item()
        n += images.size(0)
    return 100.0 * hit1 / n, 100.0 * hit5 / n


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("cfg")
    parser.add_argument("--resume", default="")
    opts = parser.parse_args()
    cfg = load_cfg(opts.cfg)

    rank, world, local_rank = setup_dist()
    device = torch.device("cuda", local_rank)
    torch.backends.cudnn.benchmark = True

    train_set = build_dataset(cfg.data, split="train")
    val_set = build_dataset(cfg.data, split="val")
    sampler = DistributedSampler(train_set, shuffle=True)
    train_loader = DataLoader(train_set, batch_size=cfg.batch_size, sampler=sampler,
                              num_workers=cfg.workers, pin_memory=True, drop_last=True)
    val_loader = DataLoader(val_set, batch_size=256, shuffle=False, num_workers=cfg.workers)

    net = build_model(cfg.model)
    net = nn.SyncBatchNorm.convert_sync_batchnorm(net).to(device)
    net = DDP(net, device_ids=[local_rank])
    criterion = nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing).to(device)
    optimizer = torch.optim.SGD(net.parameters(), lr=cfg.lr, momentum=0.9,
                                weight_decay=cfg.wd, nesterov=True)
    scaler = GradScaler()
    start_epoch, best_top1 = 0, 0.0

    if opts.resume:
        ck = torch.load(opts.resume, map_location="cpu")
        net.module.load_state_dict(ck["model"])
        optimizer.load_state_dict(ck["optimizer"])
        scaler.load_state_dict(ck["scaler"])
        start_epoch, best_top1 = ck["epoch"] + 1, ck["best_top1"]

    iters_per_epoch = len(train_loader)
    for epoch in range(start_epoch, cfg.epochs):
        sampler.set_epoch(epoch)
        net.train()
        meter, tic = AverageMeter(), time.time()
        for it, (images, target) in enumerate(train_loader):
            lr = cosine_lr(cfg.lr, epoch + it / iters_per_epoch, cfg.epochs, cfg.warmup)
            for g in optimizer.param_groups:
                g["lr"] = lr
            images = images.to(device, non_blocking=True)
            target = target.to(device, non_blocking=True)
            with autocast():
                loss = criterion(net(images), target)
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)
            nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            scaler.step(optimizer)
            scaler.update()
            meter.update(loss.item(), images.size(0))

        if rank == 0:
            top1, top5 = top1_top5(net.module, val_loader, device)
            print(f"[ep {epoch}] loss {meter.avg:.4f} top1 {top1:.2f} top5 {top5:.2f} "
                  f"({time.time() - tic:.0f}s)")
            state = {"model": net.module.state_dict(), "optimizer": optimizer.state_dict(),
                     "scaler": scaler.state_dict(), "epoch": epoch,
                     "best_top1": max(best_top1, top1)}
            torch.save(state, os.path.join(cfg.out_dir, "last.pth"))
            if top1 > best_top1:
                best_top1 = top1
                torch.save(state, os.path.join(cfg.out_dir, "best.pth"))
        dist.barrier()

    dist.destroy_process_group()


if __name__ == "__main__":
    main()
