"""Fine-tune DeepLabV3+ on Pascal VOC with small per-GPU batches.

With batches of 4 crops the BatchNorm statistics are too noisy to learn, so
`--freeze-bn` keeps the ImageNet running statistics of the backbone.
"""
import argparse
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from seg.datasets import VOCSegmentation, make_loader
from seg.models import DeepLabV3Plus
from seg.utils import PolyLR, fast_hist, per_class_iou


def parse():
    p = argparse.ArgumentParser()
    p.add_argument("--voc-root", default="/data/VOCdevkit/VOC2012")
    p.add_argument("--backbone", default="resnet101")
    p.add_argument("--output-stride", type=int, default=16)
    p.add_argument("--crop", type=int, default=513)
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--epochs", type=int, default=50)
    p.add_argument("--lr", type=float, default=0.007)
    p.add_argument("--freeze-bn", action="store_true")
    p.add_argument("--save-dir", default="checkpoints/deeplab")
    return p.parse_args()


def keep_bn_statistics(module: nn.Module):
    for m in module.modules():
        if isinstance(m, (nn.BatchNorm2d, nn.SyncBatchNorm)):
            m.eval()  # expect: MG301


def param_groups(net, lr):
    return [
        {"params": net.backbone.parameters(), "lr": lr},
        {"params": list(net.aspp.parameters()) + list(net.decoder.parameters()), "lr": lr * 10},
    ]


def validate(net, loader, n_cls, device):
    net.eval()
    hist = np.zeros((n_cls, n_cls))
    with torch.no_grad():
        for image, target in loader:
            image = image.to(device)
            logits = net(image)
            logits = F.interpolate(logits, size=target.shape[-2:], mode="bilinear", align_corners=False)
            pred = logits.argmax(1).cpu().numpy()
            hist += fast_hist(target.numpy().flatten(), pred.flatten(), n_cls)
    ious = per_class_iou(hist)
    return float(np.nanmean(ious)), ious


def main():
    args = parse()
    os.makedirs(args.save_dir, exist_ok=True)
    device = torch.device("cuda")
    train_set = VOCSegmentation(args.voc_root, split="train_aug", crop=args.crop)
    val_set = VOCSegmentation(args.voc_root, split="val")
    train_loader = make_loader(train_set, args.batch_size, shuffle=True, drop_last=True)
    val_loader = make_loader(val_set, 1, shuffle=False)

    net = DeepLabV3Plus(backbone=args.backbone, num_classes=21, output_stride=args.output_stride,
                        pretrained_backbone=True).to(device)
    if args.freeze_bn:
        keep_bn_statistics(net.backbone)

    optimizer = torch.optim.SGD(param_groups(net, args.lr), lr=args.lr, momentum=0.9, weight_decay=1e-4)
    max_iter = args.epochs * len(train_loader)
    scheduler = PolyLR(optimizer, max_iter, power=0.9)
    criterion = nn.CrossEntropyLoss(ignore_index=255)

    best_miou = 0.0
    for epoch in range(args.epochs):
        net.train()
        running = 0.0
        for i, (image, target) in enumerate(train_loader):
            image, target = image.to(device), target.to(device)
            out = net(image)
            loss = criterion(out, target)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            running += loss.item()
            if (i + 1) % 100 == 0:
                print(f"epoch {epoch} [{i + 1}/{len(train_loader)}] loss {running / 100:.4f}")
                running = 0.0

        miou, ious = validate(net, val_loader, 21, device)
        print(f"epoch {epoch}: mIoU {miou:.4f}")
        if miou > best_miou:
            best_miou = miou
            torch.save({"state_dict": net.state_dict(), "miou": miou, "epoch": epoch},
                       os.path.join(args.save_dir, "best.pth"))
    print("per-class IoU of the last epoch:", np.round(ious, 3).tolist())


if __name__ == "__main__":
    main()
