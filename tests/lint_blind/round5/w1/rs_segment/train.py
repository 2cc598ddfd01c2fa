"""Potsdam 6-class segmentation.

    torchrun --nproc_per_node 1 train.py --root /data/potsdam --epochs 60
"""
import argparse
import json
from pathlib import Path

import torch
from torch.utils.data import DataLoader

from engine import evaluate, fit_one_epoch
from nets import ResUNet
from potsdam import PotsdamCrops, PotsdamTiles

CLASSES = ["impervious", "building", "low_veg", "tree", "car", "clutter"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--bs", type=int, default=4)
    ap.add_argument("--lr", type=float, default=6e-4)
    ap.add_argument("--val-every", type=int, default=1000)
    ap.add_argument("--out", type=Path, default=Path("runs/potsdam"))
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    device = torch.device("cuda")

    train_dl = DataLoader(PotsdamCrops(args.root, "train", 512), batch_size=args.bs, shuffle=True,
                          num_workers=8, pin_memory=True, drop_last=True, persistent_workers=True)
    val_dl = DataLoader(PotsdamTiles(args.root, "val"), batch_size=1, num_workers=4)

    net = ResUNet(n_classes=len(CLASSES)).to(device, memory_format=torch.channels_last)
    params = [p for p in net.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=1e-2)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=args.epochs * len(train_dl),
                                                pct_start=0.05)
    scaler = torch.cuda.amp.GradScaler()
    history = []
    best = {"miou": 0.0}

    def on_eval(epoch, it, miou, f1):
        history.append({"epoch": epoch, "it": it, "miou": miou, "f1": f1.tolist()})
        if miou > best["miou"]:
            best["miou"] = miou
            torch.save(net.state_dict(), args.out / "best.pt")
        print(f"  [{epoch}:{it}] mIoU {miou:.4f}")

    for epoch in range(args.epochs):
        loss, secs = fit_one_epoch(net, train_dl, opt, sched, scaler, device, epoch,
                                   val_loader=val_dl, val_every=args.val_every,
                                   n_classes=len(CLASSES), on_eval=on_eval)
        print(f"epoch {epoch}: loss {loss:.4f} ({secs:.0f}s)")

    net.load_state_dict(torch.load(args.out / "best.pt"))
    miou, f1 = evaluate(net, val_dl, len(CLASSES), device)
    print("final mIoU %.4f" % miou, {c: round(float(v), 4) for c, v in zip(CLASSES, f1)})
    (args.out / "history.json").write_text(json.dumps(history, indent=1))


if __name__ == "__main__":
    main()
