"""Fine-tune DenseNet-121 on ChestX-ray14 (14 findings, multi-label).

Small per-GPU batches, so the BatchNorm layers of the pretrained trunk are kept frozen.
"""
import argparse
import os

import numpy as np
import torch
import torch.nn as nn
from sklearn.metrics import roc_auc_score
from torch.cuda.amp import GradScaler, autocast
from torch.utils.data import DataLoader
from torchvision import models

from cxr_dataset import ChestXray14, train_transform, eval_transform

FINDINGS = ["Atelectasis", "Cardiomegaly", "Effusion", "Infiltration", "Mass", "Nodule",
            "Pneumonia", "Pneumothorax", "Consolidation", "Edema", "Emphysema", "Fibrosis",
            "Pleural_Thickening", "Hernia"]


def build_net(n_out=14):
    net = models.densenet121(weights=models.DenseNet121_Weights.IMAGENET1K_V1)
    net.classifier = nn.Linear(net.classifier.in_features, n_out)
    return net


def freeze_norm_layers(net):
    n = 0
    for mod in net.modules():
        if isinstance(mod, nn.BatchNorm2d):
            for prm in mod.parameters():
                prm.requires_grad = False  # expect: MG302
            n += 1
    return n


def per_class_auc(net, loader, device):
    net.eval()
    probs, gts = [], []
    with torch.no_grad(), autocast():
        for img, y in loader:
            probs.append(torch.sigmoid(net(img.to(device))).float().cpu())
            gts.append(y)
    probs, gts = torch.cat(probs).numpy(), torch.cat(gts).numpy()
    return [roc_auc_score(gts[:, i], probs[:, i]) for i in range(gts.shape[1])]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", required=True)
    ap.add_argument("--lists", required=True)
    ap.add_argument("--bs", type=int, default=12)
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--out", default="chkpt")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    device = torch.device("cuda")

    tr = ChestXray14(args.images, os.path.join(args.lists, "train_val_list.txt"), train_transform())
    va = ChestXray14(args.images, os.path.join(args.lists, "val_list.txt"), eval_transform())
    tr_dl = DataLoader(tr, batch_size=args.bs, shuffle=True, num_workers=8, pin_memory=True)
    va_dl = DataLoader(va, batch_size=64, num_workers=8)

    net = build_net().to(device)
    print("froze", freeze_norm_layers(net), "BN layers")
    opt = torch.optim.Adam([p for p in net.parameters() if p.requires_grad], lr=args.lr)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="max", factor=0.1, patience=1)
    crit = nn.BCEWithLogitsLoss()
    scaler = GradScaler()

    best = 0.0
    for epoch in range(args.epochs):
        net.train()
        for step, (img, y) in enumerate(tr_dl):
            img, y = img.to(device, non_blocking=True), y.to(device).float()
            with autocast():
                loss = crit(net(img), y)
            opt.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
            if step % 200 == 0:
                print(f"epoch {epoch} step {step}/{len(tr_dl)} loss {loss.item():.4f}")
        aucs = per_class_auc(net, va_dl, device)
        mean_auc = float(np.mean(aucs))
        sched.step(mean_auc)
        print(" ".join(f"{k[:5]}={a:.3f}" for k, a in zip(FINDINGS, aucs)), f"| mean {mean_auc:.4f}")
        if mean_auc > best:
            best = mean_auc
            torch.save(net.state_dict(), os.path.join(args.out, "densenet121_best.pt"))


if __name__ == "__main__":
    main()
