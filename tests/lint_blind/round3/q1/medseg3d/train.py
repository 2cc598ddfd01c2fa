#!/usr/bin/env python
"""Entry point: python train.py --config configs/btcv.yaml --fold 0"""
import argparse
import os
import random

import numpy as np
import torch
from torch.utils.data import DataLoader

from model import build_unet
from engine import train_one_epoch, evaluate_cases
from io_utils import load_config, CTPatchDataset, load_val_cases


def poly_lr(optimizer, max_steps, power=0.9):
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: (1 - s / max_steps) ** power)


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True)
    ap.add_argument("--fold", type=int, default=0)
    ap.add_argument("--resume", default=None)
    ap.add_argument("--seed", type=int, default=12345)
    args = ap.parse_args()

    cfg = load_config(args.config)
    cfg.out_dir = os.path.join(cfg.out_root, f"fold{args.fold}")
    os.makedirs(cfg.out_dir, exist_ok=True)
    seed_everything(args.seed)
    device = torch.device("cuda")

    train_ds = CTPatchDataset(cfg.data_root, fold=args.fold, split="train",
                              patch_size=cfg.patch_size, oversample_fg=0.33)
    loader = DataLoader(train_ds, batch_size=cfg.batch_size, shuffle=True, num_workers=8,
                        pin_memory=True, drop_last=True, persistent_workers=True)
    val_cases = load_val_cases(cfg.data_root, fold=args.fold, limit=cfg.val_cases)

    net = build_unet(cfg).to(device)
    optimizer = torch.optim.SGD(net.parameters(), lr=cfg.lr, momentum=0.99, nesterov=True,
                                weight_decay=3e-5)
    total_steps = cfg.epochs * len(loader)
    scheduler = poly_lr(optimizer, total_steps)
    scaler = torch.cuda.amp.GradScaler(enabled=cfg.amp)

    start_epoch, state = 0, {"step": 0, "best": 0.0}
    if args.resume:
        ckpt = torch.load(args.resume, map_location="cpu")
        net.load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
        scheduler.load_state_dict(ckpt["scheduler"])
        start_epoch, state = ckpt["epoch"] + 1, ckpt["state"]

    for epoch in range(start_epoch, cfg.epochs):
        state = train_one_epoch(net, loader, optimizer, scaler, scheduler, cfg, device, epoch,
                                val_cases=val_cases, state=state)
        if (epoch + 1) % cfg.full_val_every == 0 or epoch == cfg.epochs - 1:
            mean_dice, per_cls = evaluate_cases(net, val_cases, cfg, device)
            print(f"epoch {epoch}: mean dice {mean_dice:.4f} | " +
                  " ".join(f"{d:.3f}" for d in per_cls))
        torch.save({"model": net.state_dict(), "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(), "epoch": epoch, "state": state},
                   os.path.join(cfg.out_dir, "last.pt"))


if __name__ == "__main__":
    main()
