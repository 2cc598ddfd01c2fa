"""Linear / attentive probing of a frozen self-supervised backbone.

usage: python linear_probe.py --arch vit_small --ckpt dino_vits16.pth --data /datasets/inat
"""
import argparse
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

from ssl_zoo import build_backbone  # local package
from ssl_zoo.data import make_loaders


class AttentivePooler(nn.Module):
    """Single learnable query cross-attending over patch tokens."""

    def __init__(self, dim, heads=8, drop=0.1):
        super().__init__()
        self.query = nn.Parameter(torch.zeros(1, 1, dim))
        self.attn = nn.MultiheadAttention(dim, heads, dropout=drop, batch_first=True)
        self.norm = nn.LayerNorm(dim)

    def forward(self, tokens):
        q = self.query.expand(tokens.size(0), -1, -1)
        out, _ = self.attn(q, tokens, tokens, need_weights=False)
        return self.norm(out.squeeze(1))


class ProbeModel(nn.Module):
    def __init__(self, backbone, embed_dim, num_classes, attentive=False):
        super().__init__()
        self.backbone = backbone
        for p in self.backbone.parameters():
            p.requires_grad = False
        self.pool = AttentivePooler(embed_dim) if attentive else None
        self.bn = nn.BatchNorm1d(embed_dim, affine=False)
        self.fc = nn.Linear(embed_dim, num_classes)

    def train(self):  # expect: MG104
        # the backbone stays in inference mode whatever the caller asks
        super().train()
        self.backbone.eval()
        return self

    def forward(self, images):
        with torch.no_grad():
            tokens = self.backbone.get_intermediate_layers(images, n=1)[0]
        feats = self.pool(tokens) if self.pool is not None else tokens[:, 0]
        return self.fc(self.bn(feats))


def run_epoch(net, loader, opt, device):
    net.train()
    seen, correct = 0, 0
    for images, labels in loader:
        images, labels = images.to(device, non_blocking=True), labels.to(device)
        logits = net(images)
        loss = F.cross_entropy(logits, labels)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        correct += (logits.argmax(1) == labels).sum().item()
        seen += labels.numel()
    return correct / seen


@torch.no_grad()
def top1(net, loader, device):
    net.eval()
    hits = total = 0
    for images, labels in loader:
        pred = net(images.to(device)).argmax(1).cpu()
        hits += (pred == labels).sum().item()
        total += labels.numel()
    return hits / total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--arch", default="vit_small")
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--attentive", action="store_true")
    ap.add_argument("--out", default="probe_runs")
    args = ap.parse_args()

    device = "cuda" if torch.cuda.is_available() else "cpu"
    backbone, dim = build_backbone(args.arch, args.ckpt)
    net = ProbeModel(backbone, dim, num_classes=1010, attentive=args.attentive).to(device)
    train_loader, val_loader = make_loaders(args.data, batch_size=256)

    head_params = [p for p in net.parameters() if p.requires_grad]
    opt = torch.optim.SGD(head_params, lr=args.lr, momentum=0.9, weight_decay=0.0)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, args.epochs)

    os.makedirs(args.out, exist_ok=True)
    best = 0.0
    for epoch in range(args.epochs):
        tr = run_epoch(net, train_loader, opt, device)
        sched.step()
        va = top1(net, val_loader, device)
        print(f"epoch {epoch:3d} train {tr:.4f} val {va:.4f}")
        if va > best:
            best = va
            torch.save({k: v for k, v in net.state_dict().items() if not k.startswith("backbone.")},
                       os.path.join(args.out, "probe_best.pth"))
    print("best top-1:", best)


if __name__ == "__main__":
    main()
