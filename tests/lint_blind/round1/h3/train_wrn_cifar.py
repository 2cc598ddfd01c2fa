"""Wide-ResNet training on CIFAR-10/100 with validation every N iterations.

Usage:
    python train_wrn_cifar.py --data ./data --depth 28 --widen 10 --epochs 200
"""
import argparse
import json
import os
import time

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

from nets.wideresnet import WideResNet


def get_args():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--data", default="./data")
    p.add_argument("--dataset", choices=["cifar10", "cifar100"], default="cifar10")
    p.add_argument("--depth", type=int, default=28)
    p.add_argument("--widen", type=int, default=10)
    p.add_argument("--drop", type=float, default=0.3)
    p.add_argument("--epochs", type=int, default=200)
    p.add_argument("--bs", type=int, default=128)
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--wd", type=float, default=5e-4)
    p.add_argument("--val-every", type=int, default=500, help="iterations between validations")
    p.add_argument("--out", default="runs/wrn")
    p.add_argument("--workers", type=int, default=4)
    return p.parse_args()


def build_loaders(args):
    mean, std = (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)
    aug = transforms.Compose([
        transforms.RandomCrop(32, padding=4),
        transforms.RandomHorizontalFlip(),
        transforms.ToTensor(),
        transforms.Normalize(mean, std),
    ])
    plain = transforms.Compose([transforms.ToTensor(), transforms.Normalize(mean, std)])
    ds_cls = datasets.CIFAR10 if args.dataset == "cifar10" else datasets.CIFAR100
    train_set = ds_cls(args.data, train=True, download=True, transform=aug)
    test_set = ds_cls(args.data, train=False, download=True, transform=plain)
    train_loader = DataLoader(train_set, batch_size=args.bs, shuffle=True,
                              num_workers=args.workers, drop_last=True, pin_memory=True)
    test_loader = DataLoader(test_set, batch_size=256, shuffle=False,
                             num_workers=args.workers, pin_memory=True)
    return train_loader, test_loader, len(train_set.classes)


def measure(net, loader, device):
    net.eval()
    hits, seen, loss_sum = 0, 0, 0.0
    with torch.no_grad():
        for images, labels in loader:
            images, labels = images.to(device, non_blocking=True), labels.to(device)
            logits = net(images)
            loss_sum += F.cross_entropy(logits, labels, reduction="sum").item()
            hits += (logits.argmax(1) == labels).sum().item()
            seen += labels.numel()
    return hits / seen, loss_sum / seen


def main():
    args = get_args()
    os.makedirs(args.out, exist_ok=True)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    train_loader, test_loader, n_cls = build_loaders(args)

    net = WideResNet(args.depth, args.widen, num_classes=n_cls, dropout=args.drop).to(device)
    opt = torch.optim.SGD(net.parameters(), lr=args.lr, momentum=0.9,
                          weight_decay=args.wd, nesterov=True)
    total_steps = args.epochs * len(train_loader)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=total_steps)

    history = []
    best = 0.0
    it = 0
    for epoch in range(args.epochs):
        t0 = time.time()
        for images, labels in train_loader:
            net.train()
            images, labels = images.to(device, non_blocking=True), labels.to(device)
            loss = F.cross_entropy(net(images), labels)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            it += 1

            if it % args.val_every == 0:
                acc, vloss = measure(net, test_loader, device)
                history.append({"iter": it, "epoch": epoch, "acc": acc, "loss": vloss})
                if acc > best:
                    best = acc
                    torch.save(net.state_dict(), os.path.join(args.out, "best.pt"))
                print(f"[{it}] val acc {acc:.4f} loss {vloss:.4f} (best {best:.4f})")

        print(f"epoch {epoch} done in {time.time() - t0:.1f}s, lr {sched.get_last_lr()[0]:.5f}")

    with open(os.path.join(args.out, "history.json"), "w") as fh:
        json.dump(history, fh, indent=1)


if __name__ == "__main__":
    main()
