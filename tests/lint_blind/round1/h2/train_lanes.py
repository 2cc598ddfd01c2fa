"""Lane segmentation: ResNet-34 encoder + light FPN decoder.

Run:  python train_lanes.py --data /data/culane --epochs 12 --bs 4
With batch size 4 per GPU the encoder BatchNorm statistics are kept at their
ImageNet values (--keep-bn-stats, default on).
"""
import argparse
import os

import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.models import resnet34

from lanes.data import build_loader


class LaneNet(nn.Module):
    def __init__(self, n_classes=5, keep_bn_stats=True):
        super().__init__()
        enc = resnet34(weights="IMAGENET1K_V1")
        self.stem = nn.Sequential(enc.conv1, enc.bn1, enc.relu, enc.maxpool)
        self.enc = nn.ModuleList([enc.layer1, enc.layer2, enc.layer3, enc.layer4])
        self.lateral = nn.ModuleList([nn.Conv2d(c, 128, 1) for c in (64, 128, 256, 512)])
        self.smooth = nn.Sequential(nn.Conv2d(128, 128, 3, padding=1, bias=False), nn.BatchNorm2d(128),
                                    nn.ReLU(inplace=True), nn.Dropout2d(0.1))
        self.cls = nn.Conv2d(128, n_classes, 1)
        if keep_bn_stats:
            self._use_imagenet_stats()

    def _use_imagenet_stats(self):
        for mod in list(self.stem.modules()) + list(self.enc.modules()):
            if isinstance(mod, nn.BatchNorm2d):
                mod.eval()  # expect: MG301

    def forward(self, x):
        size = x.shape[-2:]
        feats = []
        h = self.stem(x)
        for stage in self.enc:
            h = stage(h)
            feats.append(h)
        top = self.lateral[3](feats[3])
        for i in (2, 1, 0):
            top = F.interpolate(top, size=feats[i].shape[-2:], mode="bilinear", align_corners=False)
            top = top + self.lateral[i](feats[i])
        out = self.cls(self.smooth(top))
        return F.interpolate(out, size=size, mode="bilinear", align_corners=False)


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--bs", type=int, default=4)
    p.add_argument("--lr", type=float, default=0.02)
    p.add_argument("--keep-bn-stats", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument("--out", default="runs/lanenet")
    return p.parse_args()


def main():
    args = parse_args()
    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    net = LaneNet(keep_bn_stats=args.keep_bn_stats).to(dev)
    loader = build_loader(args.data, split="train", batch_size=args.bs, shuffle=True)
    weights = torch.tensor([0.4, 1.0, 1.0, 1.0, 1.0], device=dev)
    opt = torch.optim.SGD(net.parameters(), lr=args.lr, momentum=0.9, weight_decay=1e-4)
    total_iters = args.epochs * len(loader)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda it: (1 - it / total_iters) ** 0.9)
    os.makedirs(args.out, exist_ok=True)

    for epoch in range(args.epochs):
        net.train()
        running = 0.0
        for it, (img, mask) in enumerate(loader):
            img, mask = img.to(dev, non_blocking=True), mask.to(dev, non_blocking=True)
            loss = F.cross_entropy(net(img), mask, weight=weights)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            running += loss.item()
            if it % 200 == 0:
                print(f"[{epoch}/{args.epochs}] it {it} loss {running / (it + 1):.4f}")
        torch.save({"epoch": epoch, "state_dict": net.state_dict()}, os.path.join(args.out, f"ep{epoch:02d}.pth"))


if __name__ == "__main__":
    main()
