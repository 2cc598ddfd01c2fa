import argparse
import math
import os
from types import SimpleNamespace

import torch

from engine import train_one_epoch
from knn_eval import knn_top1
from losses import NTXent
from models import ContrastiveModel, build_encoder, freeze_stem
from ssl_data import cifar_pair_loader, cifar_plain_loaders


def parse():
    ap = argparse.ArgumentParser()
    ap.add_argument("--arch", default="resnet18")
    ap.add_argument("--epochs", type=int, default=500)
    ap.add_argument("--bs", type=int, default=512)
    ap.add_argument("--lr", type=float, default=0.6)
    ap.add_argument("--temperature", type=float, default=0.5)
    ap.add_argument("--knn-every", type=int, default=200)
    ap.add_argument("--freeze-stem", action="store_true")
    ap.add_argument("--out", default="checkpoints/simclr")
    return ap.parse_args()


def main():
    args = parse()
    cfg = SimpleNamespace(device=torch.device("cuda"), amp=True, log_every=50, knn_every=args.knn_every)
    encoder = build_encoder(args.arch)
    if args.freeze_stem:
        freeze_stem(encoder)
    model = ContrastiveModel(encoder).to(cfg.device)

    loader = cifar_pair_loader(args.bs)
    knn_loaders = cifar_plain_loaders(batch_size=1024)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.SGD(params, lr=args.lr, momentum=0.9, weight_decay=5e-4)
    total = args.epochs * len(loader)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * s / total)))
    criterion = NTXent(args.temperature)

    os.makedirs(args.out, exist_ok=True)
    for epoch in range(args.epochs):
        loss = train_one_epoch(model, criterion, loader, opt, sched, epoch, cfg, knn_loaders)
        torch.save({"model": model.state_dict(), "epoch": epoch, "loss": loss}, f"{args.out}/last.pt")

    final = knn_top1(model.encoder, *knn_loaders, cfg.device)
    print(f"final kNN top-1: {final:.2f}")


if __name__ == "__main__":
    main()
