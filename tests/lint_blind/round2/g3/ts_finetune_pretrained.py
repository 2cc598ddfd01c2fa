"""Fine-tune an InceptionTime-style encoder pretrained on the big sensor corpus
on a small UCR-style target task.

The target sets have only a few hundred series, so the BatchNorm statistics are
kept from pre-training (small batches give very noisy estimates).
"""
import argparse
import logging

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from tsenc.models import InceptionEncoder  # conv + BatchNorm1d blocks
from tsenc.io import load_ucr

log = logging.getLogger("finetune")


class Classifier(nn.Module):
    def __init__(self, encoder: nn.Module, emb_dim: int, n_classes: int, p: float = 0.2):
        super().__init__()
        self.encoder = encoder
        self.drop = nn.Dropout(p)
        self.fc = nn.Linear(emb_dim, n_classes)

    def forward(self, x):
        z = self.encoder(x).mean(-1)
        return self.fc(self.drop(z))


def keep_pretrained_statistics(module: nn.Module) -> int:
    n = 0
    for m in module.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            m.eval()  # expect: MG301
            n += 1
    return n


@torch.no_grad()
def evaluate(clf, loader, device):
    clf.eval()
    correct, total, nll = 0, 0, 0.0
    for xb, yb in loader:
        xb, yb = xb.to(device), yb.to(device)
        logits = clf(xb)
        nll += F.cross_entropy(logits, yb, reduction="sum").item()
        correct += (logits.argmax(-1) == yb).sum().item()
        total += len(yb)
    return correct / total, nll / total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--task", required=True)
    ap.add_argument("--ckpt", default="checkpoints/inception_pretrained.pt")
    ap.add_argument("--epochs", type=int, default=150)
    ap.add_argument("--bs", type=int, default=16)
    ap.add_argument("--lr-enc", type=float, default=1e-4)
    ap.add_argument("--lr-head", type=float, default=1e-3)
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    (x_tr, y_tr), (x_te, y_te) = load_ucr(args.task)
    n_classes = int(np.max(y_tr)) + 1
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

    enc = InceptionEncoder(in_channels=x_tr.shape[1], depth=6, width=32)
    enc.load_state_dict(torch.load(args.ckpt, map_location="cpu")["encoder"])
    clf = Classifier(enc, emb_dim=128, n_classes=n_classes).to(device)
    n_bn = keep_pretrained_statistics(clf.encoder)
    log.info("kept running statistics of %d BatchNorm layers", n_bn)

    train_dl = DataLoader(TensorDataset(torch.tensor(x_tr, dtype=torch.float32), torch.tensor(y_tr)),
                          batch_size=args.bs, shuffle=True, drop_last=len(x_tr) > args.bs)
    test_dl = DataLoader(TensorDataset(torch.tensor(x_te, dtype=torch.float32), torch.tensor(y_te)),
                         batch_size=256)

    opt = torch.optim.AdamW([
        {"params": clf.encoder.parameters(), "lr": args.lr_enc},
        {"params": clf.fc.parameters(), "lr": args.lr_head},
    ], weight_decay=1e-2)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=[args.lr_enc, args.lr_head],
                                                total_steps=args.epochs * len(train_dl))

    for epoch in range(args.epochs):
        clf.train()
        for xb, yb in train_dl:
            xb, yb = xb.to(device), yb.to(device)
            # light jitter + scaling augmentation
            xb = xb * (1 + 0.1 * torch.randn(xb.size(0), 1, 1, device=device)) + 0.01 * torch.randn_like(xb)
            loss = F.cross_entropy(clf(xb), yb, label_smoothing=0.1)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        if (epoch + 1) % 10 == 0:
            acc, nll = evaluate(clf, test_dl, device)
            log.info("epoch %d: test acc %.4f nll %.4f", epoch + 1, acc, nll)

    torch.save(clf.state_dict(), f"finetuned_{args.task}.pt")


if __name__ == "__main__":
    main()
