"""Fine-tune a detector on a small custom dataset with frozen normalisation statistics.

Small per-GPU batches (2 images) make BatchNorm statistics useless, so we keep
the ImageNet running statistics of the backbone fixed.
"""
import argparse
import json
import os

import torch
import torch.nn as nn
from torch.utils.data import DataLoader

from detlib.datasets import CocoLikeDataset, collate_fn
from detlib.engine import coco_map
from detlib.models import fasterrcnn_resnet50_fpn


def freeze_norm_stats(module):
    n = 0
    for m in module.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.eval()  # expect: MG301
            n += 1
    return n


def run_eval(model, loader, device):
    model.eval()
    detections = []
    with torch.no_grad():
        for images, targets in loader:
            images = [im.to(device) for im in images]
            outputs = model(images)
            for out, tgt in zip(outputs, targets):
                detections.append({"image_id": int(tgt["image_id"]),
                                   "boxes": out["boxes"].cpu().tolist(),
                                   "scores": out["scores"].cpu().tolist(),
                                   "labels": out["labels"].cpu().tolist()})
    return coco_map(detections, loader.dataset.coco)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--num-classes", type=int, required=True)
    ap.add_argument("--epochs", type=int, default=24)
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--batch-size", type=int, default=2)
    ap.add_argument("--out", default="runs/det")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    device = torch.device("cuda")

    model = fasterrcnn_resnet50_fpn(weights="DEFAULT", num_classes=args.num_classes,
                                    norm_layer=nn.BatchNorm2d)
    print("frozen BN layers:", freeze_norm_stats(model.backbone))
    model.to(device)

    train_ds = CocoLikeDataset(args.data, "train", augment=True)
    val_ds = CocoLikeDataset(args.data, "val", augment=False)
    train_loader = DataLoader(train_ds, batch_size=args.batch_size, shuffle=True,
                              num_workers=4, collate_fn=collate_fn)
    val_loader = DataLoader(val_ds, batch_size=4, num_workers=4, collate_fn=collate_fn)

    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(params, lr=args.lr, momentum=0.9, weight_decay=1e-4)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=[16, 22], gamma=0.1)

    history = []
    for epoch in range(args.epochs):
        model.train()
        for it, (images, targets) in enumerate(train_loader):
            images = [im.to(device) for im in images]
            targets = [{k: v.to(device) for k, v in t.items()} for t in targets]
            loss_dict = model(images, targets)
            loss = sum(loss_dict.values())
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 10.0)
            optimizer.step()
            if it % 50 == 0:
                print(epoch, it, {k: round(v.item(), 4) for k, v in loss_dict.items()})
        scheduler.step()
        history.append({"epoch": epoch, "mAP": run_eval(model, val_loader, device)})
        print(history[-1])
        torch.save(model.state_dict(), os.path.join(args.out, f"epoch_{epoch:02d}.pth"))

    with open(os.path.join(args.out, "history.json"), "w") as fh:
        json.dump(history, fh, indent=2)


if __name__ == "__main__":
    main()
