"""Train the liver/lesion U-Net; keeps the checkpoint with the best mean foreground Dice and
stops when it has not improved for ``--patience`` epochs."""
import argparse
import json
import os

import torch
import yaml
from torch.cuda.amp import GradScaler
from torch.utils.data import DataLoader

from data import LiTSSlices
from engine import evaluate, train_one_epoch
from model import build_unet


def parse_args():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default="configs/unet_lits.yaml")
    ap.add_argument("--epochs", type=int, default=150)
    ap.add_argument("--patience", type=int, default=20)
    ap.add_argument("--bs", type=int, default=12)
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--workdir", default="work/lits_unet")
    return ap.parse_args()


def main():
    args = parse_args()
    with open(args.config) as f:
        cfg = yaml.safe_load(f)
    os.makedirs(args.workdir, exist_ok=True)
    device = torch.device("cuda")
    n_classes = cfg["model"]["num_classes"]

    train_set = LiTSSlices(cfg["data"]["root"], split="train", augment=True)
    val_set = LiTSSlices(cfg["data"]["root"], split="val", augment=False)
    train_loader = DataLoader(train_set, args.bs, shuffle=True, num_workers=8,
                              pin_memory=True, drop_last=True)
    val_loader = DataLoader(val_set, args.bs, shuffle=False, num_workers=8)

    net = build_unet(cfg["model"]).to(device)
    optimizer = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=1e-4)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="max", factor=0.5,
                                                           patience=5)
    scaler = GradScaler()

    best_dice, stale, history = -1.0, 0, []
    net.train()
    for epoch in range(args.epochs):
        loss = train_one_epoch(net, train_loader, optimizer, scaler, device, n_classes, epoch)
        dice = evaluate(net, val_loader, device, n_classes)
        mean_fg = sum(dice.values()) / len(dice)
        scheduler.step(mean_fg)
        history.append({"epoch": epoch, "loss": loss, "dice": dice, "mean_fg": mean_fg})
        print(json.dumps(history[-1]))

        if mean_fg > best_dice:
            best_dice, stale = mean_fg, 0
            torch.save({"epoch": epoch, "model": net.state_dict(), "dice": dice},
                       os.path.join(args.workdir, "best.pth"))
        else:
            stale += 1
            if stale >= args.patience:
                print(f"no improvement for {args.patience} epochs, stopping at {epoch}")
                break

    with open(os.path.join(args.workdir, "history.json"), "w") as f:
        json.dump(history, f, indent=2)
    print("best mean foreground dice: %.4f" % best_dice)


if __name__ == "__main__":
    main()
