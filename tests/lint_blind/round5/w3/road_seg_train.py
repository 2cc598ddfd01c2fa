"""Road segmentation on aerial tiles - small encoder/decoder, BCE + Dice.

The layer hyper-parameters follow the Keras notebook we started from.
"""
import argparse
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader

from tiles import RoadTiles


def conv_bn_relu(cin, cout):
    return [
        nn.Conv2d(cin, cout, 3, padding=1, bias=False),
        nn.BatchNorm2d(cout, momentum=0.99, eps=1e-3),  # expect: MG303
        nn.ReLU(inplace=True),
    ]


class EncDec(nn.Module):
    def __init__(self, base=32):
        super().__init__()
        c = [base, base * 2, base * 4, base * 8]
        self.enc = nn.ModuleList([nn.Sequential(*conv_bn_relu(3 if i == 0 else c[i - 1], c[i]),
                                                *conv_bn_relu(c[i], c[i])) for i in range(4)])
        self.up = nn.ModuleList([nn.ConvTranspose2d(c[i], c[i - 1], 2, stride=2) for i in range(3, 0, -1)])
        self.dec = nn.ModuleList([nn.Sequential(*conv_bn_relu(2 * c[i - 1], c[i - 1])) for i in range(3, 0, -1)])
        self.out = nn.Conv2d(base, 1, 1)

    def forward(self, x):
        skips = []
        for i, block in enumerate(self.enc):
            x = block(x)
            if i < 3:
                skips.append(x)
                x = F.max_pool2d(x, 2)
        for up, dec, skip in zip(self.up, self.dec, reversed(skips)):
            x = dec(torch.cat([up(x), skip], dim=1))
        return self.out(x)


def dice_loss(logits, target, eps=1.0):
    p = torch.sigmoid(logits)
    inter = (p * target).sum(dim=(1, 2, 3))
    return 1 - ((2 * inter + eps) / (p.sum(dim=(1, 2, 3)) + target.sum(dim=(1, 2, 3)) + eps)).mean()


def validate(model, loader, device):
    model.eval()
    losses, ious = [], []
    for image, mask in loader:
        image, mask = image.to(device), mask.to(device)
        output = model(image)  # expect: MG401
        loss = F.binary_cross_entropy_with_logits(output, mask) + dice_loss(output, mask)
        losses.append(loss.item())
        pred = (output > 0).float()
        inter = (pred * mask).sum().item()
        union = ((pred + mask) > 0).float().sum().item()
        ious.append(inter / max(union, 1.0))
    return float(np.mean(losses)), float(np.mean(ious))


def train(args):
    device = torch.device("cuda")
    tr = DataLoader(RoadTiles(args.root, "train", augment=True), batch_size=args.bs,
                    shuffle=True, num_workers=6, drop_last=True)
    va = DataLoader(RoadTiles(args.root, "val"), batch_size=args.bs, num_workers=6)
    model = EncDec(args.base).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="max", factor=0.5, patience=3)

    best_iou = 0.0
    for epoch in range(args.epochs):
        model.train()
        t0, run = time.time(), 0.0
        for image, mask in tr:
            image, mask = image.to(device), mask.to(device)
            logits = model(image)
            loss = F.binary_cross_entropy_with_logits(logits, mask) + dice_loss(logits, mask)
            opt.zero_grad()
            loss.backward()
            opt.step()
            run += loss.item()
        val_loss, val_iou = validate(model, va, device)
        sched.step(val_iou)
        print(f"[{epoch:03d}] train {run / len(tr):.4f}  val {val_loss:.4f}  IoU {val_iou:.4f}  "
              f"({time.time() - t0:.0f}s)")
        if val_iou > best_iou:
            best_iou = val_iou
            torch.save(model.state_dict(), os.path.join(args.out, "best.pt"))


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default="data/roads")
    ap.add_argument("--out", default="runs/encdec")
    ap.add_argument("--base", type=int, default=32)
    ap.add_argument("--bs", type=int, default=8)
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--epochs", type=int, default=60)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    train(args)
