"""Temporal Segment Network fine-tuning on HMDB51 (RGB stream, ResNet-50 backbone).

Sparse sampling: each video is split into `num_segments` chunks and one frame is drawn
from every chunk; the class scores of the segments are averaged (segmental consensus).
"""
import argparse
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

from video_data import TSNFrameDataset, build_tsn_transforms


class TSN(nn.Module):
    def __init__(self, num_classes, num_segments=8, dropout_ratio=0.8, partial_bn=True):
        super().__init__()
        self.num_segments = num_segments
        self.dropout_ratio = dropout_ratio
        self._enable_pbn = partial_bn
        backbone = torchvision.models.resnet50(weights="IMAGENET1K_V2")
        feat_dim = backbone.fc.in_features
        backbone.fc = nn.Identity()
        self.backbone = backbone
        self.fc = nn.Linear(feat_dim, num_classes)
        nn.init.normal_(self.fc.weight, 0, 0.001)
        nn.init.zeros_(self.fc.bias)

    def train(self, mode=True):
        # partial BN: only the first BatchNorm keeps adapting, the rest stay frozen
        super().train(mode)
        if self._enable_pbn and mode:
            seen = 0
            for m in self.backbone.modules():
                if isinstance(m, nn.BatchNorm2d):
                    seen += 1
                    if seen >= 2:
                        m.eval()
                        m.weight.requires_grad = False
                        m.bias.requires_grad = False
        return self

    def forward(self, x):  # x: (B, T, C, H, W)
        b, t = x.shape[:2]
        feats = self.backbone(x.flatten(0, 1))
        feats = F.dropout(feats, p=self.dropout_ratio)  # expect: MG201
        scores = self.fc(feats).view(b, t, -1)
        return scores.mean(dim=1)


def evaluate(model, loader, device):
    model.eval()
    hits, seen = 0, 0
    for frames, labels in loader:
        logits = model(frames.to(device))  # expect: MG401
        hits += (logits.argmax(1).cpu() == labels).sum().item()
        seen += labels.numel()
    return hits / seen


def get_optim(model, lr, wd):
    decay, no_decay = [], []
    for n, p in model.named_parameters():
        if not p.requires_grad:
            continue
        (no_decay if n.endswith("bias") else decay).append(p)
    return torch.optim.SGD([{"params": decay, "weight_decay": wd},
                            {"params": no_decay, "weight_decay": 0.0}], lr=lr, momentum=0.9)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--split", type=int, default=1)
    ap.add_argument("--segments", type=int, default=8)
    ap.add_argument("--epochs", type=int, default=50)
    ap.add_argument("--lr", type=float, default=0.001)
    args = ap.parse_args()
    device = torch.device("cuda")

    tr_tf, te_tf = build_tsn_transforms(224)
    train_set = TSNFrameDataset(args.root, args.split, "train", args.segments, tr_tf)
    val_set = TSNFrameDataset(args.root, args.split, "test", args.segments, te_tf, random_shift=False)
    train_loader = torch.utils.data.DataLoader(train_set, batch_size=16, shuffle=True,
                                               num_workers=8, drop_last=True)
    val_loader = torch.utils.data.DataLoader(val_set, batch_size=16, num_workers=8)

    model = TSN(51, args.segments).to(device)
    optimizer = get_optim(model.train(), args.lr, 5e-4)
    sched = torch.optim.lr_scheduler.MultiStepLR(optimizer, [20, 40], 0.1)
    crit = nn.CrossEntropyLoss()

    for epoch in range(args.epochs):
        model.train()
        tic = time.time()
        for i, (frames, labels) in enumerate(train_loader):
            out = model(frames.to(device))
            loss = crit(out, labels.to(device))
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 20)
            optimizer.step()
        sched.step()
        top1 = evaluate(model, val_loader, device)
        print(f"epoch {epoch}: loss {loss.item():.3f} top1 {top1:.4f} ({time.time() - tic:.0f}s)")


if __name__ == "__main__":
    main()
