import argparse
import logging
import os
from types import SimpleNamespace

import torch

from fcos_lite.modeling import FCOSLite
from fcos_lite.evaluation import VOCMapEvaluator
from fcos_lite.engine import Engine
from fcos_lite.data import build_voc_loaders, VOC_CLASSES


def parse():
    p = argparse.ArgumentParser()
    p.add_argument("--voc-root", default="/data/VOCdevkit")
    p.add_argument("--epochs", type=int, default=24)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--eval-every", type=int, default=2000)
    p.add_argument("--amp", action="store_true")
    p.add_argument("--out-dir", default="work_dirs/fcos_lite_voc")
    return p.parse_args()


def main():
    args = parse()
    logging.basicConfig(level=logging.INFO)
    os.makedirs(args.out_dir, exist_ok=True)
    train_loader, val_loader = build_voc_loaders(args.voc_root, batch_size=16)
    model = FCOSLite(num_classes=len(VOC_CLASSES)).cuda()
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, weight_decay=1e-4)
    total = args.epochs * len(train_loader)
    lr_sched = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=args.lr, total_steps=total,
                                                   pct_start=0.05)
    evaluator = VOCMapEvaluator(val_loader, VOC_CLASSES)
    cfg = SimpleNamespace(epochs=args.epochs, eval_every=args.eval_every, amp=args.amp,
                          out_dir=args.out_dir)
    Engine(model, optimizer, lr_sched, train_loader, evaluator, cfg).run()


if __name__ == "__main__":
    main()
