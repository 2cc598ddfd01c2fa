#!/usr/bin/env python
# ImageNet-100 classification with CutMix / MixUp and label smoothing.
import argparse
import math
import os

import numpy as np
import timm
import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision import datasets, transforms


def rand_bbox(h, w, lam):
    cut = math.sqrt(1.0 - lam)
    ch, cw = int(h * cut), int(w * cut)
    cy, cx = np.random.randint(h), np.random.randint(w)
    y1, y2 = np.clip(cy - ch // 2, 0, h), np.clip(cy + ch // 2, 0, h)
    x1, x2 = np.clip(cx - cw // 2, 0, w), np.clip(cx + cw // 2, 0, w)
    return y1, y2, x1, x2


def mix_batch(x, y, alpha, cutmix_prob):
    lam = np.random.beta(alpha, alpha)
    perm = torch.randperm(x.size(0), device=x.device)
    if np.random.rand() < cutmix_prob:
        y1, y2, x1, x2 = rand_bbox(x.size(2), x.size(3), lam)
        x[:, :, y1:y2, x1:x2] = x[perm, :, y1:y2, x1:x2]
        lam = 1 - ((y2 - y1) * (x2 - x1) / (x.size(2) * x.size(3)))
    else:
        x = lam * x + (1 - lam) * x[perm]
    return x, y, y[perm], lam


@torch.no_grad()
def measure(net, loader, device):
    top1 = top5 = seen = 0
    for images, target in loader:
        images, target = images.to(device), target.to(device)
        logits = net(images)  # expect: MG102
        _, pred = logits.topk(5, dim=1)
        hit = pred.eq(target[:, None])
        top1 += hit[:, 0].sum().item()
        top5 += hit.any(dim=1).sum().item()
        seen += target.numel()
    return 100.0 * top1 / seen, 100.0 * top5 / seen


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--root", default="/data/imagenet100")
    p.add_argument("--arch", default="resnet50")
    p.add_argument("--epochs", type=int, default=100)
    p.add_argument("--bs", type=int, default=128)
    p.add_argument("--lr", type=float, default=0.2)
    p.add_argument("--alpha", type=float, default=1.0)
    p.add_argument("--cutmix-prob", type=float, default=0.5)
    args = p.parse_args()

    device = "cuda"
    norm = transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
    tr = transforms.Compose([transforms.RandomResizedCrop(224), transforms.RandomHorizontalFlip(),
                             transforms.ToTensor(), norm])
    te = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224),
                             transforms.ToTensor(), norm])
    train_ds = datasets.ImageFolder(os.path.join(args.root, "train"), tr)
    val_ds = datasets.ImageFolder(os.path.join(args.root, "val"), te)
    train_dl = torch.utils.data.DataLoader(train_ds, args.bs, shuffle=True, num_workers=8, drop_last=True)
    val_dl = torch.utils.data.DataLoader(val_ds, 256, num_workers=8)

    net = timm.create_model(args.arch, num_classes=100, drop_rate=0.2).to(device)
    opt = torch.optim.SGD(net.parameters(), lr=args.lr, momentum=0.9, weight_decay=5e-5, nesterov=True)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, args.epochs * len(train_dl))
    crit = nn.CrossEntropyLoss(label_smoothing=0.1)

    best = 0.0
    for epoch in range(args.epochs):
        net.train()
        for step, (x, y) in enumerate(train_dl):
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            x, ya, yb, lam = mix_batch(x, y, args.alpha, args.cutmix_prob)
            out = net(x)
            loss = lam * crit(out, ya) + (1 - lam) * crit(out, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
        acc1, acc5 = measure(net, val_dl, device)
        print(f"epoch {epoch:3d}  top1 {acc1:.2f}  top5 {acc5:.2f}")
        if acc1 > best:
            best = acc1
            torch.save(net.state_dict(), "best.pth")


if __name__ == "__main__":
    main()
