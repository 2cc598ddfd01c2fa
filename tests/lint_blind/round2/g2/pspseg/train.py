import argparse
import logging
import os

import torch

from pspseg.nets.pspnet import PSPNet
from pspseg.core.evaluator import MeanIoU
from pspseg.core.trainer import PolyTrainer
from pspseg.data import CityscapesFine, train_transforms, val_transforms


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default="/data/cityscapes")
    ap.add_argument("--iters", type=int, default=80000)
    ap.add_argument("--val-interval", type=int, default=8000)
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--work-dir", default="work_dirs/pspnet_r50_cityscapes")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO)
    os.makedirs(args.work_dir, exist_ok=True)

    train_set = CityscapesFine(args.root, "train", train_transforms(crop=713))
    val_set = CityscapesFine(args.root, "val", val_transforms())
    loader = torch.utils.data.DataLoader(train_set, batch_size=8, shuffle=True, num_workers=8,
                                         drop_last=True, pin_memory=True)
    val_loader = torch.utils.data.DataLoader(val_set, batch_size=1, num_workers=4)

    net = PSPNet(num_classes=19).cuda()
    backbone = [p for n, p in net.named_parameters() if n.startswith("layer")]
    heads = [p for n, p in net.named_parameters() if not n.startswith("layer")]
    opt = torch.optim.SGD([{"params": backbone, "lr": args.lr},
                           {"params": heads, "lr": args.lr * 10}], momentum=0.9, weight_decay=1e-4)
    trainer = PolyTrainer(net, opt, loader, MeanIoU(val_loader, 19), args.iters, args.val_interval,
                          args.work_dir)
    print("best mIoU", trainer.fit())


if __name__ == "__main__":
    main()
