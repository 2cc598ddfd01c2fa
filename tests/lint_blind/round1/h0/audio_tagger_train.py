"""Train a CNN audio tagger on log-mel clips; evaluates mAP several times per epoch."""
import argparse
import contextlib
import logging

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.metrics import average_precision_score

from tagger.data import make_loaders

log = logging.getLogger("tagger")


class ConvBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.c1 = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
        self.b1 = nn.BatchNorm2d(cout)
        self.c2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.b2 = nn.BatchNorm2d(cout)

    def forward(self, x):
        x = F.relu(self.b1(self.c1(x)))
        x = F.relu(self.b2(self.c2(x)))
        return F.avg_pool2d(x, 2)


class Cnn6Tagger(nn.Module):
    def __init__(self, n_tags, p_drop=0.2):
        super().__init__()
        self.blocks = nn.Sequential(ConvBlock(1, 64), ConvBlock(64, 128), ConvBlock(128, 256))
        self.fc = nn.Linear(256, 256)
        self.out = nn.Linear(256, n_tags)
        self.p_drop = p_drop

    def forward(self, mel):
        x = self.blocks(mel.unsqueeze(1))
        x = F.dropout(x, p=self.p_drop, training=self.training)
        x = x.mean(dim=3)
        x = x.max(dim=2).values + x.mean(dim=2)
        x = F.dropout(F.relu(self.fc(x)), p=0.5, training=self.training)
        return self.out(x)


@contextlib.contextmanager
def scoring(net):
    """Temporarily switch to inference behaviour; restores the caller's mode."""
    previous = net.training
    net.eval()
    try:
        with torch.no_grad():
            yield net
    finally:
        net.train(previous)


def mean_ap(net, loader, device):
    targets, scores = [], []
    with scoring(net):
        for mel, y in loader:
            scores.append(torch.sigmoid(net(mel.to(device))).cpu().numpy())
            targets.append(y.numpy())
    t, s = np.concatenate(targets), np.concatenate(scores)
    keep = t.sum(0) > 0
    return float(average_precision_score(t[:, keep], s[:, keep], average="macro"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--eval-every", type=int, default=2000)
    ap.add_argument("--lr", type=float, default=1e-3)
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

    train_loader, val_loader, n_tags = make_loaders(args.root, batch_size=32)
    net = Cnn6Tagger(n_tags).to(device)
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=1e-2)
    step, best = 0, 0.0

    for epoch in range(args.epochs):
        net.train()
        for mel, y in train_loader:
            logits = net(mel.to(device))
            loss = F.binary_cross_entropy_with_logits(logits, y.to(device).float())
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            if step % args.eval_every == 0:
                m = mean_ap(net, val_loader, device)
                log.info("step %d loss %.4f val mAP %.4f", step, loss.item(), m)
                if m > best:
                    best = m
                    torch.save(net.state_dict(), "best_tagger.pt")
    log.info("best mAP %.4f", best)


if __name__ == "__main__":
    main()
