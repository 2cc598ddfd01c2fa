"""Entry point: python -m det_toolkit.main --data data/voc --epochs 140"""
import argparse

import torch
from torch.utils.data import DataLoader

from .datasets import CenterNetVOC, collate_eval
from .evaluator import MapEvaluator
from .modeling import build_detector
from .trainer import DetTrainer


def get_args():
    p = argparse.ArgumentParser()
    p.add_argument("--data", default="data/voc")
    p.add_argument("--epochs", type=int, default=140)
    p.add_argument("--bs", type=int, default=32)
    p.add_argument("--lr", type=float, default=5e-4)
    p.add_argument("--input-size", type=int, default=512)
    p.add_argument("--no-freeze-bn", action="store_true")
    p.add_argument("--work-dir", default="work_dirs/centernet_r18_voc")
    p.add_argument("--eval-only", default="", help="checkpoint to evaluate and exit")
    return p.parse_args()


def main():
    args = get_args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

    train_set = CenterNetVOC(args.data, "trainval", args.input_size, augment=True)
    val_set = CenterNetVOC(args.data, "test", args.input_size, augment=False)
    train_loader = DataLoader(train_set, args.bs, shuffle=True, num_workers=8,
                              pin_memory=True, drop_last=True)
    val_loader = DataLoader(val_set, 16, shuffle=False, num_workers=4, collate_fn=collate_eval)

    model = build_detector(train_set.num_classes, freeze_trunk_bn=not args.no_freeze_bn)
    model.to(device)
    evaluator = MapEvaluator(val_loader, train_set.num_classes, device)

    if args.eval_only:
        model.load_state_dict(torch.load(args.eval_only, map_location=device))
        print("mAP@0.5:", evaluator.run(model))
        return

    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, [90, 120], 0.1)
    trainer = DetTrainer(model, train_loader, evaluator, optimizer, scheduler, device,
                         args.work_dir, epochs=args.epochs)
    best = trainer.fit()
    print(f"done, best mAP@0.5 {best:.4f}")


if __name__ == "__main__":
    main()
