"""Fine-tune a pretrained IResNet on a small identity set with a margin head, verify on pairs.

    python train_face.py --head arcface --pretrained glint_r18.pth --data /data/faces/staff
"""
import argparse

import numpy as np
import torch
import torch.nn.functional as F

from backbone import freeze_bn_stats, iresnet18, load_pretrained
from heads import build_head
from facedata import FaceFolder, PairList


def pair_accuracy(backbone, pairs, device):
    backbone.eval()
    sims, issame = [], []
    with torch.no_grad():
        for img1, img2, same in pairs:
            e1 = F.normalize(backbone(img1.to(device)))
            e2 = F.normalize(backbone(img2.to(device)))
            sims.append((e1 * e2).sum(1).cpu().numpy())
            issame.append(same.numpy())
    sims, issame = np.concatenate(sims), np.concatenate(issame).astype(bool)
    thresholds = np.linspace(-1, 1, 401)
    accs = [((sims > t) == issame).mean() for t in thresholds]
    best = int(np.argmax(accs))
    return accs[best], thresholds[best]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--pairs", default="/data/faces/staff_pairs.txt")
    ap.add_argument("--pretrained", required=True)
    ap.add_argument("--head", default="arcface")
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--lr", type=float, default=0.02)
    ap.add_argument("--batch-size", type=int, default=64)
    args = ap.parse_args()
    device = torch.device("cuda")

    train_set = FaceFolder(args.data, train=True)
    loader = torch.utils.data.DataLoader(train_set, batch_size=args.batch_size, shuffle=True,
                                         num_workers=6, drop_last=True)
    pairs = torch.utils.data.DataLoader(PairList(args.pairs), batch_size=128)

    backbone = iresnet18(dropout=0.2)
    print("load:", load_pretrained(backbone, args.pretrained))
    n = freeze_bn_stats(backbone)
    print(f"froze running stats of {n} BatchNorm layers")
    margin = build_head(args.head, 512, train_set.num_classes)
    backbone.to(device)
    margin.to(device)

    opt = torch.optim.SGD([{"params": backbone.parameters(), "lr": args.lr * 0.1},
                           {"params": margin.parameters()}], lr=args.lr, momentum=0.9, weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs * len(loader))

    best_acc = 0.0
    for epoch in range(args.epochs):
        backbone.train()
        margin.train()
        for imgs, labels in loader:
            loss, _ = margin(backbone(imgs.to(device)), labels.to(device))
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        acc, thr = pair_accuracy(backbone, pairs, device)
        print(f"epoch {epoch}: loss {loss.item():.3f} pair acc {acc:.4f} (thr {thr:.2f})")
        if acc > best_acc:
            best_acc = acc
            torch.save(backbone.state_dict(), "face_finetuned_best.pth")


if __name__ == "__main__":
    main()
