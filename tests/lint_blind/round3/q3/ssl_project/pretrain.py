"""python pretrain.py --data /data/imagenet100 --arch resnet18 --epochs 200"""
import argparse
import math

import timm
import torch

from augment import TwoViewLoader, plain_loaders
from knn_monitor import knn_accuracy
from model import SelfDistill


def lars_like(params, lr, wd):
    return torch.optim.SGD(params, lr=lr, momentum=0.9, weight_decay=wd)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--arch", default="resnet18")
    ap.add_argument("--epochs", type=int, default=200)
    ap.add_argument("--bs", type=int, default=256)
    ap.add_argument("--lr", type=float, default=0.5)
    ap.add_argument("--monitor_every", type=int, default=1000)
    args = ap.parse_args()

    device = "cuda"
    backbone = timm.create_model(args.arch, num_classes=0)
    model = SelfDistill(backbone, backbone.num_features).to(device)
    loader = TwoViewLoader(args.data, batch_size=args.bs)
    bank_dl, query_dl, n_cls = plain_loaders(args.data)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = lars_like(params, args.lr * args.bs / 256, 1.5e-6)
    total = args.epochs * len(loader)

    step = 0
    for epoch in range(args.epochs):
        model.train()
        for v1, v2 in loader:
            for g in opt.param_groups:
                g["lr"] = args.lr * args.bs / 256 * 0.5 * (1 + math.cos(math.pi * step / total))
            loss = model(v1.to(device, non_blocking=True), v2.to(device, non_blocking=True))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            model.momentum_update(step / total)
            step += 1
            if step % args.monitor_every == 0:
                acc = knn_accuracy(model.online_backbone, bank_dl, query_dl, n_cls, device=device)
                print(f"ep {epoch} step {step} loss {loss.item():.4f} kNN {acc:.2f}")
        torch.save(model.online_backbone.state_dict(), f"backbone_ep{epoch:03d}.pth")


if __name__ == "__main__":
    main()
