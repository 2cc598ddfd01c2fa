"""Surface-defect multi-label classifier.

    python main.py train --data /data/steel --epochs 25
    python main.py predict --ckpt runs/best.pt --images /data/steel/incoming
"""
import argparse

import torch
from torch.utils.data import DataLoader

from backbone import build_model
from defect_data import DefectDataset, CLASS_NAMES
from predict import predict_dir
from trainer import Trainer


def get_cfg():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train")
    t.add_argument("--data", required=True)
    t.add_argument("--arch", default="resnet50")
    t.add_argument("--epochs", type=int, default=25)
    t.add_argument("--bs", type=int, default=4)
    t.add_argument("--lr", type=float, default=3e-4)
    t.add_argument("--weight-decay", type=float, default=1e-4)
    t.add_argument("--pos-weight", type=float, nargs="*", default=None)
    t.add_argument("--threshold", type=float, default=0.5)
    t.add_argument("--log-every", type=int, default=50)
    t.add_argument("--out-dir", default="runs")
    pr = sub.add_parser("predict")
    pr.add_argument("--ckpt", required=True)
    pr.add_argument("--images", required=True)
    pr.add_argument("--out", default="predictions.csv")
    cfg = p.parse_args()
    cfg.device = "cuda" if torch.cuda.is_available() else "cpu"
    return cfg


def main():
    cfg = get_cfg()
    if cfg.cmd == "train":
        train_ds = DefectDataset(cfg.data, split="train", augment=True)
        val_ds = DefectDataset(cfg.data, split="val")
        train_loader = DataLoader(train_ds, batch_size=cfg.bs, shuffle=True, num_workers=8, drop_last=True)
        val_loader = DataLoader(val_ds, batch_size=8, num_workers=8)
        model = build_model(len(CLASS_NAMES), arch=cfg.arch, freeze_bn=True)
        best = Trainer(model, train_loader, val_loader, cfg).fit()
        print(f"best macro-F1: {best:.4f}")
    else:
        n = predict_dir(cfg.ckpt, cfg.images, CLASS_NAMES, cfg.out, device=cfg.device)
        print(f"wrote {n} predictions to {cfg.out}")


if __name__ == "__main__":
    main()
