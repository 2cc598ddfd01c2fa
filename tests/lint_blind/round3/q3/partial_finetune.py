"""Fine-tune an ImageNet EfficientNet on a small medical data set.

Recipe: the stem is locked; every normalisation layer stays frozen at its ImageNet values
(batches are small: 16 images), everything else is fine-tuned with a small LR.
"""
import argparse

import timm
import torch
import torch.nn as nn
from sklearn.metrics import roc_auc_score

from medsets import make_loaders

NORM_TYPES = (nn.BatchNorm2d, nn.SyncBatchNorm)


def lock(module):
    """Freeze a sub-network completely: no gradients, running stats fixed."""
    module.eval()
    for p in module.parameters():
        p.requires_grad_(False)


def keep_norm_affine(model):
    """Freeze the norm layers: batches of 16 are too small to re-estimate them."""
    n = 0
    for mod in model.modules():
        if isinstance(mod, NORM_TYPES):
            mod.requires_grad_(False)  # expect: MG302
            n += 1
    return n


def trainable(model):
    return [p for p in model.parameters() if p.requires_grad]


@torch.no_grad()
def score(model, loader, device):
    model.eval()
    ys, ps = [], []
    for img, y in loader:
        ps.append(model(img.to(device)).sigmoid().squeeze(1).cpu())
        ys.append(y)
    return roc_auc_score(torch.cat(ys).numpy(), torch.cat(ps).numpy())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--arch", default="efficientnet_b0")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--bs", type=int, default=16)
    args = ap.parse_args()

    device = "cuda" if torch.cuda.is_available() else "cpu"
    model = timm.create_model(args.arch, pretrained=True, num_classes=1, drop_rate=0.2).to(device)
    print(f"froze {keep_norm_affine(model)} norm layers")
    lock(model.conv_stem)
    lock(model.bn1)
    train_dl, val_dl = make_loaders(args.data, batch_size=args.bs)

    opt = torch.optim.AdamW(trainable(model), lr=args.lr, weight_decay=1e-2)
    crit = nn.BCEWithLogitsLoss()
    best = 0.0
    for epoch in range(args.epochs):
        model.train()
        lock(model.conv_stem)
        lock(model.bn1)
        for img, y in train_dl:
            img, y = img.to(device), y.float().to(device)
            loss = crit(model(img).squeeze(1), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        auc = score(model, val_dl, device)
        print(f"epoch {epoch}: val AUC {auc:.4f}")
        if auc > best:
            best = auc
            torch.save(model.state_dict(), "best.pt")


if __name__ == "__main__":
    main()
