"""Linear evaluation of a self-supervised ResNet-50 checkpoint on ImageNet."""
import argparse
import os

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

from models.resnet import resnet50


class FrozenFeatureClassifier(nn.Module):
    """A trainable linear head on top of a fixed backbone."""

    def __init__(self, backbone: nn.Module, feat_dim: int, n_cls: int):
        super().__init__()
        self.backbone = backbone
        self.backbone.requires_grad_(False)
        self.head = nn.Sequential(
            nn.BatchNorm1d(feat_dim, affine=False, eps=1e-6),
            nn.Linear(feat_dim, n_cls),
        )
        nn.init.trunc_normal_(self.head[1].weight, std=0.01)
        nn.init.zeros_(self.head[1].bias)
        self.backbone.eval()

    def train(self, mode: bool = True):
        super().train(mode)
        # keep the backbone's BatchNorm statistics exactly as pretrained
        self.backbone.eval()
        return self

    def forward(self, images):
        with torch.no_grad():
            feats = self.backbone(images).flatten(1)
        return self.head(feats)


def load_backbone(path):
    net = resnet50(num_classes=0)
    state = torch.load(path, map_location="cpu")
    state = state.get("state_dict", state)
    cleaned = {}
    for k, v in state.items():
        for prefix in ("module.", "encoder_q.", "backbone."):
            if k.startswith(prefix):
                k = k[len(prefix):]
        if not k.startswith("fc."):
            cleaned[k] = v
    missing, unexpected = net.load_state_dict(cleaned, strict=False)
    print(f"loaded backbone: missing={missing} unexpected={len(unexpected)}")
    return net


def loaders(root, bs, workers):
    norm = transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
    tr = transforms.Compose([transforms.RandomResizedCrop(224), transforms.RandomHorizontalFlip(),
                             transforms.ToTensor(), norm])
    te = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224),
                             transforms.ToTensor(), norm])
    train_ds = datasets.ImageFolder(os.path.join(root, "train"), tr)
    val_ds = datasets.ImageFolder(os.path.join(root, "val"), te)
    return (DataLoader(train_ds, bs, shuffle=True, num_workers=workers, drop_last=True),
            DataLoader(val_ds, bs, shuffle=False, num_workers=workers))


def top1_top5(probe, loader, device):
    probe.eval()
    c1 = c5 = n = 0
    with torch.no_grad():
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            top5 = probe(x).topk(5, dim=1).indices
            c1 += (top5[:, 0] == y).sum().item()
            c5 += (top5 == y[:, None]).any(1).sum().item()
            n += y.numel()
    return 100.0 * c1 / n, 100.0 * c5 / n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--data", default="/datasets/imagenet")
    ap.add_argument("--epochs", type=int, default=90)
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--bs", type=int, default=256)
    ap.add_argument("--workers", type=int, default=16)
    args = ap.parse_args()

    device = "cuda"
    probe = FrozenFeatureClassifier(load_backbone(args.ckpt), 2048, 1000).to(device)
    opt = torch.optim.SGD(probe.head.parameters(), lr=args.lr, momentum=0.9, weight_decay=0.0)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, args.epochs)
    train_loader, val_loader = loaders(args.data, args.bs, args.workers)

    best = 0.0
    for epoch in range(args.epochs):
        probe.train()
        for x, y in train_loader:
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            loss = F.cross_entropy(probe(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
        acc1, acc5 = top1_top5(probe, val_loader, device)
        best = max(best, acc1)
        print(f"epoch {epoch:3d} loss {loss.item():.3f} top1 {acc1:.2f} top5 {acc5:.2f} best {best:.2f}")
    torch.save(probe.head.state_dict(), "linear_head.pth")


if __name__ == "__main__":
    main()
