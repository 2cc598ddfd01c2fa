#!/usr/bin/env python
"""Fine-tune a timm backbone on an ImageFolder dataset with early stopping."""
import argparse
import json
import os
import time

import numpy as np
import timm
import torch
import torch.nn as nn
from torch.utils.data import DataLoader
from torchvision import datasets, transforms


class EarlyStopper:
    def __init__(self, patience=7, min_delta=1e-4, mode="max"):
        self.patience = patience
        self.min_delta = min_delta
        self.sign = 1.0 if mode == "max" else -1.0
        self.best = None
        self.bad_epochs = 0

    def step(self, value):
        score = self.sign * value
        if self.best is None or score > self.best + self.min_delta:
            self.best = score
            self.bad_epochs = 0
            return True
        self.bad_epochs += 1
        return False

    @property
    def should_stop(self):
        return self.bad_epochs >= self.patience


def get_loaders(root, img_size, bs, workers):
    norm = transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
    tf_train = transforms.Compose([
        transforms.RandomResizedCrop(img_size, scale=(0.5, 1.0)),
        transforms.RandomHorizontalFlip(),
        transforms.ColorJitter(0.2, 0.2, 0.2),
        transforms.ToTensor(), norm,
    ])
    tf_val = transforms.Compose([
        transforms.Resize(int(img_size * 1.14)),
        transforms.CenterCrop(img_size),
        transforms.ToTensor(), norm,
    ])
    ds_tr = datasets.ImageFolder(os.path.join(root, "train"), tf_train)
    ds_va = datasets.ImageFolder(os.path.join(root, "val"), tf_val)
    dl_tr = DataLoader(ds_tr, bs, shuffle=True, num_workers=workers, drop_last=True, pin_memory=True)
    dl_va = DataLoader(ds_va, bs * 2, shuffle=False, num_workers=workers, pin_memory=True)
    return dl_tr, dl_va, len(ds_tr.classes)


def one_epoch(net, loader, crit, opt, sched, dev):
    running, seen = 0.0, 0
    for x, y in loader:
        x, y = x.to(dev, non_blocking=True), y.to(dev, non_blocking=True)
        opt.zero_grad(set_to_none=True)
        loss = crit(net(x), y)
        loss.backward()
        nn.utils.clip_grad_norm_(net.parameters(), 5.0)
        opt.step()
        sched.step()
        running += loss.item() * x.size(0)
        seen += x.size(0)
    return running / max(seen, 1)


def score_split(net, loader, crit, dev):
    net.eval()  # expect: MG101
    correct, total, loss_sum = 0, 0, 0.0
    for x, y in loader:
        x, y = x.to(dev), y.to(dev)
        logits = net(x)  # expect: MG401
        loss_sum += crit(logits, y).item() * x.size(0)
        correct += (logits.argmax(1) == y).sum().item()
        total += x.size(0)
    return loss_sum / total, correct / total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--arch", default="convnext_tiny")
    ap.add_argument("--img-size", type=int, default=224)
    ap.add_argument("--bs", type=int, default=32)
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--drop-rate", type=float, default=0.2)
    ap.add_argument("--patience", type=int, default=6)
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--out", default="runs/cls")
    args = ap.parse_args()

    os.makedirs(args.out, exist_ok=True)
    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dl_tr, dl_va, n_cls = get_loaders(args.data, args.img_size, args.bs, args.workers)

    net = timm.create_model(args.arch, pretrained=True, num_classes=n_cls,
                            drop_rate=args.drop_rate, drop_path_rate=0.1).to(dev)
    crit = nn.CrossEntropyLoss(label_smoothing=0.1)
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=0.05)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr,
                                                total_steps=args.epochs * len(dl_tr))
    stopper = EarlyStopper(patience=args.patience, mode="max")
    history = []

    net.train()
    for ep in range(args.epochs):
        t0 = time.time()
        tr_loss = one_epoch(net, dl_tr, crit, opt, sched, dev)
        va_loss, va_acc = score_split(net, dl_va, crit, dev)
        history.append({"epoch": ep, "train_loss": tr_loss, "val_loss": va_loss,
                        "val_acc": va_acc, "sec": time.time() - t0})
        print(json.dumps(history[-1]))
        if stopper.step(va_acc):
            torch.save(net.state_dict(), os.path.join(args.out, "best.pt"))
        if stopper.should_stop:
            print("early stop at epoch %d (best acc %.4f)" % (ep, stopper.best))
            break

    with open(os.path.join(args.out, "history.json"), "w") as f:
        json.dump(history, f, indent=1)
    print("best val acc:", np.max([h["val_acc"] for h in history]))


if __name__ == "__main__":
    main()
