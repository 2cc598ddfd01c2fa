"""Fine-tune a Kinetics-pretrained R(2+1)D-18 on UCF101 split 1 (16-frame clips, 112 px)."""
import argparse
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.models.video import r2plus1d_18, R2Plus1D_18_Weights

from ucf101 import UCF101Clips, video_level_accuracy


def prepare_model(num_classes, freeze_bn_affine=True, dropout=0.5):
    model = r2plus1d_18(weights=R2Plus1D_18_Weights.KINETICS400_V1)
    model.fc = nn.Sequential(nn.Dropout(dropout), nn.Linear(model.fc.in_features, num_classes))
    if freeze_bn_affine:
        # batch of 12 clips is too small to re-learn the BN layers; keep the Kinetics ones
        for m in model.modules():
            if isinstance(m, nn.BatchNorm3d):
                for p in m.parameters():
                    p.requires_grad = False  # expect: MG302
    return model


def param_groups(model, lr, wd):
    backbone, head = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        (head if name.startswith("fc.") else backbone).append(p)
    return [{"params": backbone, "lr": lr * 0.1, "weight_decay": wd},
            {"params": head, "lr": lr, "weight_decay": wd}]


@torch.no_grad()
def clip_accuracy(model, loader, device):
    model.eval()
    hit = n = 0
    for clips, labels, _ in loader:
        pred = model(clips.to(device)).argmax(1).cpu()
        hit += (pred == labels).sum().item()
        n += labels.numel()
    return hit / n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--split", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--bs", type=int, default=12)
    ap.add_argument("--lr", type=float, default=1e-2)
    ap.add_argument("--wd", type=float, default=5e-4)
    args = ap.parse_args()

    device = torch.device("cuda")
    train_set = UCF101Clips(args.root, split=args.split, train=True, frames=16, size=112)
    test_set = UCF101Clips(args.root, split=args.split, train=False, frames=16, size=112, clips_per_video=10)
    train_loader = torch.utils.data.DataLoader(train_set, args.bs, shuffle=True, num_workers=10, drop_last=True)
    test_loader = torch.utils.data.DataLoader(test_set, 32, num_workers=10)

    model = prepare_model(101).to(device)
    opt = torch.optim.SGD(param_groups(model, args.lr, args.wd), momentum=0.9)
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, [10, 20], 0.1)
    for epoch in range(args.epochs):
        model.train()
        tic, seen, correct = time.time(), 0, 0
        for clips, labels, _ in train_loader:
            clips, labels = clips.to(device), labels.to(device)
            out = model(clips)
            loss = F.cross_entropy(out, labels)
            opt.zero_grad()
            loss.backward()
            opt.step()
            seen += labels.numel()
            correct += (out.argmax(1) == labels).sum().item()
        sched.step()
        acc = clip_accuracy(model, test_loader, device)
        print(f"[{epoch:02d}] train acc {correct / seen:.3f} clip acc {acc:.3f} ({time.time() - tic:.0f}s)")

    print("video-level accuracy:", video_level_accuracy(model, test_loader, device))


if __name__ == "__main__":
    main()
