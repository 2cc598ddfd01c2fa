"""Fine-tune a semantic layout segmenter (text / title / list / table / figure) on PubLayNet crops.

Batches are small (4 pages at 1024px), so the ImageNet BatchNorm statistics of the
backbone are kept fixed.
"""
import argparse

import timm
import torch
import torch.nn as nn
import torch.nn.functional as F

from layout.data import PubLayNetMasks, build_transforms
from layout.metrics import mean_iou

CLASSES = ["background", "text", "title", "list", "table", "figure"]


class FPNHead(nn.Module):
    def __init__(self, in_channels, mid=128, n_classes=len(CLASSES)):
        super().__init__()
        self.lateral = nn.ModuleList([nn.Conv2d(c, mid, 1) for c in in_channels])
        self.smooth = nn.Sequential(nn.Conv2d(mid, mid, 3, padding=1), nn.GroupNorm(16, mid), nn.ReLU())
        self.drop = nn.Dropout2d(0.1)
        self.cls = nn.Conv2d(mid, n_classes, 1)

    def forward(self, feats):
        out = self.lateral[-1](feats[-1])
        for lat, f in zip(reversed(self.lateral[:-1]), reversed(feats[:-1])):
            out = F.interpolate(out, size=f.shape[-2:], mode="nearest") + lat(f)
        return self.cls(self.drop(self.smooth(out)))


class LayoutSegmenter(nn.Module):
    def __init__(self, backbone_name="resnet50"):
        super().__init__()
        self.backbone = timm.create_model(backbone_name, pretrained=True, features_only=True,
                                          out_indices=(1, 2, 3, 4))
        self.head = FPNHead(self.backbone.feature_info.channels())

    def forward(self, pages):
        logits = self.head(self.backbone(pages))
        return F.interpolate(logits, size=pages.shape[-2:], mode="bilinear", align_corners=False)


def keep_imagenet_bn_stats(backbone):
    n = 0
    for m in backbone.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.eval()  # expect: MG301
            n += 1
    return n


def run(args):
    device = torch.device(args.device)
    model = LayoutSegmenter(args.backbone).to(device)
    n_bn = keep_imagenet_bn_stats(model.backbone)
    print(f"fixed statistics of {n_bn} BatchNorm layers")

    train_ds = PubLayNetMasks(args.root, "train", build_transforms(train=True))
    val_ds = PubLayNetMasks(args.root, "val", build_transforms(train=False))
    train_dl = torch.utils.data.DataLoader(train_ds, batch_size=4, shuffle=True, num_workers=4)
    val_dl = torch.utils.data.DataLoader(val_ds, batch_size=4, num_workers=4)

    opt = torch.optim.SGD([
        {"params": model.backbone.parameters(), "lr": args.lr * 0.1},
        {"params": model.head.parameters(), "lr": args.lr},
    ], momentum=0.9, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.PolynomialLR(opt, total_iters=args.epochs * len(train_dl), power=0.9)

    for epoch in range(args.epochs):
        model.train()
        for pages, masks in train_dl:
            pages, masks = pages.to(device), masks.to(device)
            loss = F.cross_entropy(model(pages), masks, ignore_index=255)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()

        model.eval()
        ious = []
        with torch.no_grad():
            for pages, masks in val_dl:
                pred = model(pages.to(device)).argmax(1).cpu()
                ious.append(mean_iou(pred, masks, len(CLASSES)))
        print(f"epoch {epoch}: loss {loss.item():.3f} val mIoU {sum(ious) / len(ious):.4f}")
        torch.save(model.state_dict(), f"{args.out}/layout_{epoch:02d}.pt")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default="/datasets/publaynet")
    ap.add_argument("--backbone", default="resnet50")
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--out", default="checkpoints")
    run(ap.parse_args())
