"""Train VNet-lite on BTCV-style abdominal CT.

    python train.py --config configs/btcv.yaml --pretrained ssl_encoder.pt --freeze-bn
"""
import argparse

import torch
import yaml

from data import build_loaders
from engine import train_one_epoch
from model import build_model
from utils import freeze_encoder_bn, load_pretrained_encoder, save_checkpoint, seed_everything


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True)
    ap.add_argument("--pretrained", default=None)
    ap.add_argument("--freeze-bn", action="store_true")
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()

    with open(args.config) as fh:
        cfg = yaml.safe_load(fh)
    cfg.setdefault("device", "cuda")
    seed_everything(args.seed)

    train_loader, val_loader = build_loaders(cfg)
    net = build_model(cfg).to(cfg["device"])
    if args.pretrained:
        missing, _ = load_pretrained_encoder(net, args.pretrained)
        print(f"loaded encoder, {len(missing)} missing keys")
    if args.freeze_bn:
        print("frozen BN layers:", freeze_encoder_bn(net))

    opt = torch.optim.AdamW(net.parameters(), lr=cfg.get("lr", 3e-4), weight_decay=cfg.get("wd", 1e-5))
    sched = torch.optim.lr_scheduler.PolynomialLR(opt, total_iters=cfg["epochs"], power=0.9)
    scaler = torch.cuda.amp.GradScaler()
    state = {"best": -1.0}

    for epoch in range(cfg["epochs"]):
        train_one_epoch(net, train_loader, opt, scaler, epoch, cfg, val_loader=val_loader, state=state)
        sched.step()
        save_checkpoint({"model": net.state_dict(), "epoch": epoch, "opt": opt.state_dict()}, cfg["out_dir"])
    print("best val dice", state["best"])


if __name__ == "__main__":
    main()
