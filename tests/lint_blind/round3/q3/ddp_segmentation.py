# Cityscapes semantic segmentation, DDP + AMP + gradient accumulation.
# torchrun --nproc_per_node 4 ddp_segmentation.py --cfg cfg/deeplabv3p_r101.yaml
import argparse
import os
from contextlib import nullcontext

import torch
import torch.distributed as dist
import torch.nn as nn
import yaml
from torch.nn.parallel import DistributedDataParallel

from segkit.datasets import build_dataset, build_loader
from segkit.models import build_segmentor
from segkit.utils import Logger, poly_lr

IGNORE = 255


def confusion(pred, gt, n):
    keep = gt != IGNORE
    return torch.bincount(n * gt[keep] + pred[keep], minlength=n * n).reshape(n, n)


def evaluate(ddp_model, loader, num_classes):
    ddp_model.eval()
    hist = torch.zeros(num_classes, num_classes, dtype=torch.long, device="cuda")
    with torch.no_grad():
        for img, gt in loader:
            img, gt = img.cuda(non_blocking=True), gt.cuda(non_blocking=True)
            with torch.autocast("cuda", dtype=torch.bfloat16):
                logits = ddp_model(img)
            logits = nn.functional.interpolate(logits.float(), gt.shape[-2:], mode="bilinear",
                                               align_corners=False)
            hist += confusion(logits.argmax(1), gt, num_classes)
    dist.all_reduce(hist)
    ddp_model.train()
    iou = hist.diag() / (hist.sum(0) + hist.sum(1) - hist.diag()).clamp(min=1)
    return iou.mean().item()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cfg", required=True)
    args = ap.parse_args()
    cfg = yaml.safe_load(open(args.cfg))

    dist.init_process_group("nccl")
    rank, world = dist.get_rank(), dist.get_world_size()
    torch.cuda.set_device(int(os.environ["LOCAL_RANK"]))
    log = Logger(cfg["work_dir"]) if rank == 0 else None

    train_loader = build_loader(build_dataset(cfg["data"]["train"]), cfg["batch_size"], dist=True)
    val_loader = build_loader(build_dataset(cfg["data"]["val"]), 2, dist=True, shuffle=False)

    net = build_segmentor(cfg["model"])
    net = nn.SyncBatchNorm.convert_sync_batchnorm(net).cuda()
    model = DistributedDataParallel(net, device_ids=[torch.cuda.current_device()],
                                    find_unused_parameters=False)
    criterion = nn.CrossEntropyLoss(ignore_index=IGNORE)
    optimizer = torch.optim.SGD(model.parameters(), lr=cfg["lr"], momentum=0.9, weight_decay=1e-4)
    scaler = torch.cuda.amp.GradScaler()
    accum = cfg.get("accum_steps", 1)
    max_iter, val_every = cfg["max_iter"], cfg["val_every"]

    it, micro = 0, 0
    model.train()
    while it < max_iter:
        train_loader.sampler.set_epoch(it)
        for img, gt in train_loader:
            img, gt = img.cuda(non_blocking=True), gt.cuda(non_blocking=True)
            micro += 1
            sync = micro % accum == 0
            with (nullcontext() if sync else model.no_sync()):
                with torch.autocast("cuda", dtype=torch.bfloat16):
                    out = model(img)
                    loss = criterion(out, gt) / accum
                scaler.scale(loss).backward()
            if not sync:
                continue
            poly_lr(optimizer, cfg["lr"], it, max_iter)
            scaler.step(optimizer)
            scaler.update()
            optimizer.zero_grad(set_to_none=True)
            it += 1
            if log and it % 50 == 0:
                log.scalar("loss", loss.item() * accum, it)
            if it % val_every == 0:
                miou = evaluate(model, val_loader, cfg["num_classes"])
                if log:
                    log.scalar("val/mIoU", miou, it)
                    torch.save(net.state_dict(), os.path.join(cfg["work_dir"], f"it{it}.pth"))
            if it >= max_iter:
                break
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
