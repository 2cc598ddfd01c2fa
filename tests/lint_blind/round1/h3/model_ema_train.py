"""ImageNet-style training with an exponential moving average of the weights."""
import argparse
import copy
import time

import torch
import torch.nn as nn
import timm
from timm.data import create_loader, create_dataset, Mixup


class WeightAverager:
    """Keeps a shadow copy of a network whose weights trail the live ones."""

    def __init__(self, net: nn.Module, decay: float = 0.9998, warmup: int = 2000):
        self.shadow = copy.deepcopy(net).eval()
        for p in self.shadow.parameters():
            p.requires_grad_(False)
        self.decay = decay
        self.warmup = warmup
        self.updates = 0

    def _current_decay(self):
        return min(self.decay, (1 + self.updates) / (self.warmup + self.updates))

    @torch.no_grad()
    def update(self, net: nn.Module):
        self.updates += 1
        d = self._current_decay()
        live = net.state_dict()
        for name, s in self.shadow.state_dict().items():
            v = live[name].detach()
            if s.dtype.is_floating_point:
                s.mul_(d).add_(v, alpha=1.0 - d)
            else:
                s.copy_(v)


def top1(net, loader):
    net.eval()
    hit = cnt = 0
    with torch.inference_mode():
        for x, y in loader:
            x, y = x.cuda(non_blocking=True), y.cuda(non_blocking=True)
            with torch.autocast("cuda", dtype=torch.bfloat16):
                pred = net(x).argmax(dim=1)
            hit += (pred == y).sum().item()
            cnt += y.numel()
    return 100.0 * hit / cnt


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="resnet50")
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--bs", type=int, default=256)
    ap.add_argument("--accum", type=int, default=2)
    ap.add_argument("--ema-decay", type=float, default=0.9998)
    ap.add_argument("--mixup", type=float, default=0.2)
    args = ap.parse_args()

    net = timm.create_model(args.model, pretrained=False, drop_rate=0.1, drop_path_rate=0.05).cuda()
    ema = WeightAverager(net, decay=args.ema_decay)
    train_ds = create_dataset("", root=args.data_dir, split="train", is_training=True)
    val_ds = create_dataset("", root=args.data_dir, split="validation")
    train_loader = create_loader(train_ds, (3, 224, 224), args.bs, is_training=True,
                                 auto_augment="rand-m7-mstd0.5", num_workers=10)
    val_loader = create_loader(val_ds, (3, 224, 224), args.bs, is_training=False, num_workers=10)
    mixup = Mixup(mixup_alpha=args.mixup, num_classes=1000) if args.mixup > 0 else None

    criterion = timm.loss.SoftTargetCrossEntropy() if mixup else nn.CrossEntropyLoss()
    optimizer = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=0.02)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, args.epochs * len(train_loader))

    for epoch in range(args.epochs):
        net.train()
        tic = time.time()
        optimizer.zero_grad(set_to_none=True)
        for i, (x, y) in enumerate(train_loader):
            if mixup is not None:
                x, y = mixup(x, y)
            with torch.autocast("cuda", dtype=torch.bfloat16):
                loss = criterion(net(x), y) / args.accum
            loss.backward()
            if (i + 1) % args.accum == 0:
                nn.utils.clip_grad_norm_(net.parameters(), 5.0)
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
                ema.update(net)
            sched.step()

        acc_live = top1(net, val_loader)
        acc_ema = top1(ema.shadow, val_loader)
        print(f"epoch {epoch} ({time.time() - tic:.0f}s): top1 {acc_live:.2f} ema {acc_ema:.2f}")
        torch.save({"net": net.state_dict(), "ema": ema.shadow.state_dict(), "epoch": epoch},
                   "last.pth.tar")


if __name__ == "__main__":
    main()
