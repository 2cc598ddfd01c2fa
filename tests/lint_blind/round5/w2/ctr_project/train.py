"""Entry point: python train.py --config configs/dcn_v2.yaml"""
import argparse
import logging
import os

import torch
import yaml

from engine import train_one_epoch
from metrics import run_validation
from models import build_model
from data import build_dataloaders


def parse():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True)
    ap.add_argument("--workdir", default="work_dirs/ctr")
    ap.add_argument("--resume", default=None)
    return ap.parse_args()


def main():
    args = parse()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    with open(args.config) as fh:
        cfg = yaml.safe_load(fh)
    os.makedirs(args.workdir, exist_ok=True)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

    train_loader, val_loader, test_loader, meta = build_dataloaders(cfg)
    cfg.update(vocab_sizes=meta["vocab_sizes"], n_dense=meta["n_dense"])
    model = build_model(cfg).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg["lr"], weight_decay=cfg.get("wd", 0.0))
    scaler = torch.cuda.amp.GradScaler(enabled=cfg["amp"])
    start_epoch = 0
    if args.resume:
        state = torch.load(args.resume, map_location=device)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        start_epoch = state["epoch"] + 1

    best = {"auc": 0.0}

    def keep_best(epoch, step, stats):
        if stats["auc"] > best["auc"]:
            best.update(stats, epoch=epoch, step=step)
            torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": epoch},
                       os.path.join(args.workdir, "best.pt"))

    for epoch in range(start_epoch, cfg["epochs"]):
        train_one_epoch(model, train_loader, optimizer, scaler, device, epoch, cfg,
                        val_loader=val_loader, on_eval=keep_best)

    model.load_state_dict(torch.load(os.path.join(args.workdir, "best.pt"))["model"])
    test_stats = run_validation(model, test_loader, device)
    logging.info("best val %s | test %s", best, test_stats)


if __name__ == "__main__":
    main()
