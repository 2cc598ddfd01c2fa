"""Entry point: python train_net.py --cfg configs/voc_aspp.yaml"""
import argparse
import logging

import torch
import torch.nn as nn
import yaml

from engine.evaluator import SemSegEvaluator
from engine.hooks import EvalHook, PeriodicCheckpointer, PolyLR
from engine.trainer import EpochTrainer
from models import build_model
from voc import build_voc_loaders


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cfg", required=True)
    ap.add_argument("--out", default="output/seg")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO)
    cfg = yaml.safe_load(open(args.cfg))

    train_loader, val_loader = build_voc_loaders(cfg["data"])
    model = build_model(cfg["model"]).cuda()
    optimizer = torch.optim.SGD(model.parameters(), lr=cfg["lr"], momentum=0.9, weight_decay=1e-4)
    criterion = nn.CrossEntropyLoss(ignore_index=255)

    trainer = EpochTrainer(model, optimizer, criterion, train_loader, cfg["max_iter"])
    evaluator = SemSegEvaluator(cfg["model"]["num_classes"], class_names=cfg["data"].get("classes"))
    trainer.register_hooks([
        PolyLR(cfg["lr"], cfg["max_iter"]),
        PeriodicCheckpointer(args.out, period=5000),
        EvalHook(cfg.get("eval_period", 2000), evaluator, val_loader, out_dir=args.out),
    ])
    trainer.train()


if __name__ == "__main__":
    main()
