"""Fine-tune an ImageNet ResNet-50 on a small medical dataset (~2k images).

With so few images per batch we keep the pretrained normalisation layers fixed
(--freeze-norm) and only adapt the conv weights and the new classifier.
"""
import argparse
import time

import torch
import torch.nn as nn
from torch.utils.data import DataLoader
from torchvision import models

from medsets import DermDataset, derm_transforms


def build(num_classes, freeze_norm):
    backbone = models.resnet50(weights=models.ResNet50_Weights.IMAGENET1K_V2)
    backbone.fc = nn.Sequential(nn.Dropout(0.3), nn.Linear(2048, num_classes))
    if freeze_norm:
        for mod in backbone.modules():
            if isinstance(mod, nn.BatchNorm2d):
                mod.requires_grad_(False)  # expect: MG302
    return backbone


def param_groups(net, lr, head_mult=10.0):
    head = [p for n, p in net.named_parameters() if n.startswith("fc.") and p.requires_grad]
    body = [p for n, p in net.named_parameters() if not n.startswith("fc.") and p.requires_grad]
    return [{"params": body, "lr": lr}, {"params": head, "lr": lr * head_mult}]


def one_epoch(net, loader, crit, opt, device):
    net.train()
    tot, n = 0.0, 0
    for imgs, labels in loader:
        imgs, labels = imgs.to(device), labels.to(device)
        loss = crit(net(imgs), labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
        tot += loss.item() * imgs.size(0)
        n += imgs.size(0)
    return tot / n


@torch.no_grad()
def balanced_accuracy(net, loader, num_classes, device):
    net.eval()
    conf = torch.zeros(num_classes, num_classes, dtype=torch.long)
    for imgs, labels in loader:
        pred = net(imgs.to(device)).argmax(1).cpu()
        for t, p in zip(labels, pred):
            conf[t, p] += 1
    recall = conf.diag().float() / conf.sum(1).clamp(min=1).float()
    return recall.mean().item()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/datasets/derm7")
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--bs", type=int, default=16)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--freeze-norm", action="store_true")
    args = ap.parse_args()
    device = torch.device("cuda")

    tr_t, te_t = derm_transforms(384)
    train_dl = DataLoader(DermDataset(args.data, "train", tr_t), args.bs, shuffle=True,
                          num_workers=6, drop_last=True)
    val_dl = DataLoader(DermDataset(args.data, "val", te_t), 64, num_workers=6)

    net = build(7, args.freeze_norm).to(device)
    opt = torch.optim.SGD(param_groups(net, args.lr), momentum=0.9, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, [25, 35], 0.1)
    crit = nn.CrossEntropyLoss()
    best = 0.0
    for ep in range(args.epochs):
        t0 = time.time()
        loss = one_epoch(net, train_dl, crit, opt, device)
        sched.step()
        bacc = balanced_accuracy(net, val_dl, 7, device)
        if bacc > best:
            best = bacc
            torch.save(net.state_dict(), "derm_best.pth")
        print(f"ep {ep:02d} loss {loss:.4f} bacc {bacc:.4f} best {best:.4f} ({time.time() - t0:.0f}s)")


if __name__ == "__main__":
    main()
