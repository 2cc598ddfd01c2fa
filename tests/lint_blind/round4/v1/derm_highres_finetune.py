"""High-resolution dermoscopy classifier. Batches of 4 at 1024px are too small for
BatchNorm statistics, so the ImageNet running statistics are kept fixed."""
import argparse
import os

import torch
import torch.nn as nn
import torchvision
from sklearn.metrics import balanced_accuracy_score
from torch.utils.data import DataLoader

from derm.data import ISICDataset, train_transforms, eval_transforms


def keep_imagenet_stats(net):
    n = 0
    for m in net.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.eval()  # expect: MG301
            n += 1
    return n


def build_net(n_classes):
    net = torchvision.models.resnet50(weights="IMAGENET1K_V2")
    net.fc = nn.Sequential(nn.Dropout(0.4), nn.Linear(net.fc.in_features, n_classes))
    return net


def balanced_acc(net, loader, device):
    net.eval()
    ys, ps = [], []
    with torch.no_grad():
        for x, y in loader:
            ps.append(net(x.to(device)).argmax(1).cpu())
            ys.append(y)
    return balanced_accuracy_score(torch.cat(ys).numpy(), torch.cat(ps).numpy())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default="/data/isic2019")
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--bs", type=int, default=4)
    ap.add_argument("--accum", type=int, default=8)
    ap.add_argument("--epochs", type=int, default=25)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--out", default="out/derm_r50")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    device = torch.device("cuda")

    tr = ISICDataset(args.root, "train", train_transforms(args.size))
    va = ISICDataset(args.root, "val", eval_transforms(args.size))
    tr_dl = DataLoader(tr, args.bs, shuffle=True, num_workers=6, drop_last=True)
    va_dl = DataLoader(va, args.bs * 4, shuffle=False, num_workers=6)

    net = build_net(tr.num_classes).to(device)
    n_bn = keep_imagenet_stats(net)
    print(f"froze running stats of {n_bn} BatchNorm layers")

    class_w = torch.tensor(tr.inverse_frequency(), dtype=torch.float32, device=device)
    crit = nn.CrossEntropyLoss(weight=class_w)
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs)

    best = 0.0
    for epoch in range(args.epochs):
        net.train()
        opt.zero_grad()
        for step, (x, y) in enumerate(tr_dl):
            loss = crit(net(x.to(device)), y.to(device)) / args.accum
            loss.backward()
            if (step + 1) % args.accum == 0:
                opt.step()
                opt.zero_grad()
        sched.step()

        bacc = balanced_acc(net, va_dl, device)
        print(f"epoch {epoch:02d}  balanced acc {bacc:.4f}")
        if bacc > best:
            best = bacc
            torch.save(net.state_dict(), os.path.join(args.out, "best.pth"))
    print("best balanced accuracy", best)


if __name__ == "__main__":
    main()
