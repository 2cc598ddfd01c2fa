# torchrun --nproc_per_node=8 ddp_imagenet.py --arch convnext_tiny --data /datasets/imagenet
import argparse
import contextlib
import os

import timm
import torch
import torch.distributed as dist
import torch.nn as nn
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader
from torch.utils.data.distributed import DistributedSampler
from torchvision import datasets, transforms


def get_args():
    p = argparse.ArgumentParser()
    p.add_argument("--arch", default="resnet50")
    p.add_argument("--data", required=True)
    p.add_argument("--epochs", type=int, default=90)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--accum", type=int, default=2)
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--eval-interval", type=int, default=2000)
    p.add_argument("--workers", type=int, default=8)
    return p.parse_args()


def run_eval(net, loader, rank):
    net.eval()  # expect: MG101
    if rank != 0:
        # only rank 0 scores the (unsharded) val set, the others just wait at the barrier
        return None
    correct = total = 0
    with torch.no_grad(), torch.autocast("cuda", dtype=torch.float16):
        for images, target in loader:
            images = images.cuda(non_blocking=True)
            target = target.cuda(non_blocking=True)
            correct += (net(images).argmax(1) == target).sum().item()
            total += target.numel()
    net.train()
    return 100.0 * correct / total


def main():
    args = get_args()
    dist.init_process_group("nccl")
    rank = dist.get_rank()
    local_rank = int(os.environ["LOCAL_RANK"])
    torch.cuda.set_device(local_rank)

    norm = transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
    train_set = datasets.ImageFolder(os.path.join(args.data, "train"), transforms.Compose([
        transforms.RandomResizedCrop(224), transforms.RandomHorizontalFlip(),
        transforms.ToTensor(), norm]))
    val_set = datasets.ImageFolder(os.path.join(args.data, "val"), transforms.Compose([
        transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor(), norm]))
    sampler = DistributedSampler(train_set, shuffle=True)
    train_loader = DataLoader(train_set, batch_size=args.batch_size, sampler=sampler,
                              num_workers=args.workers, pin_memory=True, drop_last=True)
    val_loader = DataLoader(val_set, batch_size=256, num_workers=args.workers, pin_memory=True)

    model = timm.create_model(args.arch, num_classes=1000).cuda()
    model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    model = DDP(model, device_ids=[local_rank])
    criterion = nn.CrossEntropyLoss(label_smoothing=0.1).cuda()
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, weight_decay=1e-4)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)
    scaler = torch.cuda.amp.GradScaler()

    step = 0
    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)
        model.train()
        for i, (images, target) in enumerate(train_loader):
            images = images.cuda(non_blocking=True)
            target = target.cuda(non_blocking=True)
            boundary = (i + 1) % args.accum == 0
            ctx = contextlib.nullcontext() if boundary else model.no_sync()
            with ctx:
                with torch.autocast("cuda", dtype=torch.float16):
                    loss = criterion(model(images), target) / args.accum
                scaler.scale(loss).backward()
            if not boundary:
                continue
            scaler.unscale_(optimizer)
            nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            scaler.step(optimizer)
            scaler.update()
            optimizer.zero_grad(set_to_none=True)
            step += 1

            if step % args.eval_interval == 0:
                top1 = run_eval(model.module, val_loader, rank)
                if top1 is not None:
                    print(f"[ep {epoch} step {step}] top1 {top1:.2f}", flush=True)
                dist.barrier()
        scheduler.step()
        if rank == 0:
            torch.save({"model": model.module.state_dict(), "epoch": epoch}, f"ckpt_{epoch}.pth")

    dist.destroy_process_group()


if __name__ == "__main__":
    main()
