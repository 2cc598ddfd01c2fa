# Deep metric learning on CUB-200 / Cars-196 with batch-hard triplets.
import argparse
import logging
import time

import timm
import torch
import torch.nn as nn
import torch.nn.functional as F

from dml_data import build_loaders  # m-per-class sampler + test loader

log = logging.getLogger("dml")


class Embedder(nn.Module):
    def __init__(self, backbone="resnet50", dim=128):
        super().__init__()
        self.trunk = timm.create_model(backbone, pretrained=True, num_classes=0, global_pool="avg")
        self.neck = nn.Sequential(nn.Linear(self.trunk.num_features, dim), nn.BatchNorm1d(dim))

    def forward(self, x):
        return F.normalize(self.neck(self.trunk(x)), dim=1)


def batch_hard_triplet(emb, labels, margin=0.2):
    d = torch.cdist(emb, emb)
    same = labels[:, None] == labels[None, :]
    hardest_pos = (d * same.float()).max(1).values
    hardest_neg = (d + same.float() * 1e6).min(1).values
    return F.relu(hardest_pos - hardest_neg + margin).mean()


def recall_at(net, loader, ks, device):
    net.eval()
    feats, labels = [], []
    for images, y in loader:
        emb = net(images.to(device, non_blocking=True))  # expect: MG401
        feats.append(emb.cpu())
        labels.append(y)
    feats, labels = torch.cat(feats), torch.cat(labels)
    sim = feats @ feats.t()
    sim.fill_diagonal_(-2.0)
    top = sim.topk(max(ks), dim=1).indices
    hits = labels[top] == labels[:, None]
    return {k: hits[:, :k].any(1).float().mean().item() for k in ks}


def fit_one_epoch(net, loader, opt, device, margin):
    net.train()
    running, n = 0.0, 0
    for images, y in loader:
        images, y = images.to(device), y.to(device)
        loss = batch_hard_triplet(net(images), y, margin)
        opt.zero_grad()
        loss.backward()
        opt.step()
        running += loss.item()
        n += 1
    return running / max(n, 1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--dataset", choices=["cub", "cars"], default="cub")
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--margin", type=float, default=0.2)
    ap.add_argument("--lr", type=float, default=1e-5)
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO)

    device = torch.device("cuda")
    train_loader, test_loader = build_loaders(args.root, args.dataset, m_per_class=4, batch_size=120)
    net = Embedder().to(device)
    opt = torch.optim.AdamW([
        {"params": net.trunk.parameters(), "lr": args.lr},
        {"params": net.neck.parameters(), "lr": args.lr * 10},
    ], weight_decay=1e-4)

    best = 0.0
    for epoch in range(args.epochs):
        t0 = time.time()
        loss = fit_one_epoch(net, train_loader, opt, device, args.margin)
        rec = recall_at(net, test_loader, (1, 2, 4, 8), device)
        log.info("epoch %d loss %.4f R@1 %.4f R@8 %.4f (%.0fs)", epoch, loss, rec[1], rec[8], time.time() - t0)
        if rec[1] > best:
            best = rec[1]
            torch.save(net.state_dict(), f"{args.dataset}_best.pth")


if __name__ == "__main__":
    main()
