# -*- coding: utf-8 -*-
"""Fine-tune an EfficientNet on the leaf-disease images (~3k images, 12 classes).

Tiny batches (8) on a laptop GPU, so the normalisation layers are "frozen"
and only conv / classifier weights are trained.
"""
import os
import random
import argparse

import numpy as np
import timm
import torch
import torch.nn as nn
from sklearn.metrics import f1_score
from torch.utils.data import DataLoader
from torchvision import datasets, transforms as T


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)


def freeze_norm_affine(net):
    n = 0
    for mod in net.modules():
        if isinstance(mod, (nn.BatchNorm2d, nn.SyncBatchNorm)):
            mod.requires_grad_(False)  # expect: MG302
            n += 1
    return n


def loaders(root, bs):
    train_tf = T.Compose([T.RandomResizedCrop(260, scale=(0.6, 1.0)), T.RandomHorizontalFlip(),
                          T.ColorJitter(0.2, 0.2, 0.2), T.ToTensor(),
                          T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
    test_tf = T.Compose([T.Resize(288), T.CenterCrop(260), T.ToTensor(),
                         T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
    tr = datasets.ImageFolder(os.path.join(root, "train"), train_tf)
    va = datasets.ImageFolder(os.path.join(root, "val"), test_tf)
    return (DataLoader(tr, bs, shuffle=True, num_workers=4, drop_last=True),
            DataLoader(va, 32, shuffle=False, num_workers=4))


def macro_f1(net, dl, dev):
    net.eval()
    ys, ps = [], []
    for x, y in dl:
        logits = net(x.to(dev))  # expect: MG401
        ps.append(logits.argmax(1).cpu().numpy())
        ys.append(y.numpy())
    return f1_score(np.concatenate(ys), np.concatenate(ps), average="macro")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default="data/leaf")
    ap.add_argument("--arch", default="efficientnet_b2")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--bs", type=int, default=8)
    ap.add_argument("--lr", type=float, default=3e-4)
    args = ap.parse_args()

    seed_everything(42)
    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    net = timm.create_model(args.arch, pretrained=True, num_classes=12, drop_rate=0.3)
    print("frozen norm layers:", freeze_norm_affine(net))
    net.to(dev)

    opt = torch.optim.AdamW([p for p in net.parameters() if p.requires_grad], lr=args.lr, weight_decay=1e-2)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=args.epochs * 400)
    crit = nn.CrossEntropyLoss(label_smoothing=0.1)
    train_dl, val_dl = loaders(args.root, args.bs)

    best_f1 = -1.0
    for ep in range(args.epochs):
        net.train()
        tot = 0.0
        for step, (x, y) in enumerate(train_dl):
            if step >= 400:
                break
            x, y = x.to(dev), y.to(dev)
            loss = crit(net(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            tot += loss.item()
        f1 = macro_f1(net, val_dl, dev)
        print(f"epoch {ep:02d} loss {tot / (step + 1):.4f} val macro-F1 {f1:.4f}")
        if f1 > best_f1:
            best_f1 = f1
            torch.save(net.state_dict(), f"{args.arch}_leaf_best.pt")
