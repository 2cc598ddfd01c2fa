"""FixMatch on CIFAR-10 (250 / 4000 labels).

    python train.py --num-labeled 4000 --epochs 1024 --val-every 256
"""
import argparse
import logging
import math
import os

import torch
from torch.utils.data import DataLoader, RandomSampler

from cifar_ssl import get_cifar10
from engine import ModelEMA, train_one_epoch
from evaluate import evaluate
from models import build_wideresnet

logging.basicConfig(format="%(asctime)s %(message)s", level=logging.INFO)
log = logging.getLogger("fixmatch")


def cosine_schedule(optimizer, warmup, total, cycles=7.0 / 16.0):
    def f(step):
        if step < warmup:
            return step / max(1, warmup)
        progress = (step - warmup) / max(1, total - warmup)
        return max(0.0, math.cos(math.pi * cycles * progress))
    return torch.optim.lr_scheduler.LambdaLR(optimizer, f)


def parse():
    p = argparse.ArgumentParser()
    p.add_argument("--root", default="./data")
    p.add_argument("--num-labeled", type=int, default=4000)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--mu", type=int, default=7)
    p.add_argument("--lr", type=float, default=0.03)
    p.add_argument("--epochs", type=int, default=1024)
    p.add_argument("--eval-step", type=int, default=1024)
    p.add_argument("--val-every", type=int, default=256, help="extra student validations inside an epoch")
    p.add_argument("--threshold", type=float, default=0.95)
    p.add_argument("--lambda-u", type=float, default=1.0)
    p.add_argument("--T", type=float, default=1.0)
    p.add_argument("--ema-decay", type=float, default=0.999)
    p.add_argument("--out", default="results/fixmatch")
    return p.parse_args()


def main():
    args = parse()
    args.device = torch.device("cuda")
    os.makedirs(args.out, exist_ok=True)

    labeled_ds, unlabeled_ds, test_ds = get_cifar10(args.root, args.num_labeled)
    labeled_loader = DataLoader(labeled_ds, sampler=RandomSampler(labeled_ds), batch_size=args.batch_size,
                                num_workers=4, drop_last=True)
    unlabeled_loader = DataLoader(unlabeled_ds, sampler=RandomSampler(unlabeled_ds),
                                  batch_size=args.batch_size * args.mu, num_workers=4, drop_last=True)
    test_loader = DataLoader(test_ds, batch_size=256, num_workers=4)

    model = build_wideresnet(num_classes=10).to(args.device)
    no_decay = ["bias", "bn"]
    groups = [
        {"params": [p for n, p in model.named_parameters() if not any(nd in n for nd in no_decay)],
         "weight_decay": 5e-4},
        {"params": [p for n, p in model.named_parameters() if any(nd in n for nd in no_decay)],
         "weight_decay": 0.0},
    ]
    optimizer = torch.optim.SGD(groups, lr=args.lr, momentum=0.9, nesterov=True)
    scheduler = cosine_schedule(optimizer, 0, args.epochs * args.eval_step)
    ema = ModelEMA(model, args.ema_decay)

    best = 0.0
    for epoch in range(args.epochs):
        meter = train_one_epoch(model, ema, labeled_loader, unlabeled_loader, optimizer, scheduler,
                                args, epoch, val_loader=test_loader)
        stats = evaluate(ema.ema, test_loader, args.device)
        log.info("epoch %d loss %.4f mask %.3f | ema top1 %.4f top5 %.4f", epoch, meter["loss"],
                 meter["mask"], stats["top1"], stats["top5"])
        if stats["top1"] > best:
            best = stats["top1"]
            torch.save({"model": model.state_dict(), "ema": ema.ema.state_dict(), "epoch": epoch},
                       os.path.join(args.out, "best.pth"))
    log.info("best ema top1 %.4f", best)


if __name__ == "__main__":
    main()
