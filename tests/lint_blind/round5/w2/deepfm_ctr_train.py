"""DeepFM on Criteo-style sparse shards.

Hyper-parameters were carried over from our old DeepCTR (TensorFlow) config so the
numbers in the weekly report stay comparable.
"""
import argparse
import logging
import os
import time

import numpy as np
import torch
import torch.nn as nn
from sklearn.metrics import log_loss, roc_auc_score

from data.criteo import CriteoShards, collate_sparse

logger = logging.getLogger("deepfm")


class FactorizationMachine(nn.Module):
    def forward(self, emb):
        # emb: (batch, num_fields, k)
        square_of_sum = emb.sum(dim=1).pow(2)
        sum_of_square = emb.pow(2).sum(dim=1)
        return 0.5 * (square_of_sum - sum_of_square).sum(dim=1, keepdim=True)


class DeepFM(nn.Module):
    def __init__(self, field_dims, embed_dim=16, hidden=(400, 400, 400), dropout=0.5):
        super().__init__()
        offsets = np.concatenate([[0], np.cumsum(field_dims)[:-1]])
        self.register_buffer("offsets", torch.as_tensor(offsets, dtype=torch.long))
        total = int(sum(field_dims))
        self.linear = nn.Embedding(total, 1)
        self.bias = nn.Parameter(torch.zeros(1))
        self.embedding = nn.Embedding(total, embed_dim)
        nn.init.xavier_uniform_(self.embedding.weight)
        self.fm = FactorizationMachine()

        layers = []
        in_dim = len(field_dims) * embed_dim
        for h in hidden:
            layers.append(nn.Linear(in_dim, h))
            layers.append(nn.BatchNorm1d(h, momentum=0.99))  # expect: MG303
            layers.append(nn.ReLU(inplace=True))
            layers.append(nn.Dropout(dropout))
            in_dim = h
        layers.append(nn.Linear(in_dim, 1))
        self.dnn = nn.Sequential(*layers)

    def forward(self, idx):
        idx = idx + self.offsets.unsqueeze(0)
        emb = self.embedding(idx)
        first_order = self.linear(idx).sum(dim=1) + self.bias
        deep = self.dnn(emb.flatten(1))
        return (first_order + self.fm(emb) + deep).squeeze(1)


def evaluate_auc(net, loader, device):
    net.eval()  # expect: MG101
    scores, targets = [], []
    with torch.no_grad():
        for sparse, label in loader:
            logit = net(sparse.to(device, non_blocking=True))
            scores.append(torch.sigmoid(logit).cpu().numpy())
            targets.append(label.numpy())
    p = np.concatenate(scores)
    y = np.concatenate(targets)
    return roc_auc_score(y, p), log_loss(y, np.clip(p, 1e-7, 1 - 1e-7))


def parse_args():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/data/criteo/shards")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=4096)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--l2", type=float, default=1e-6)
    ap.add_argument("--eval-every", type=int, default=2000)
    ap.add_argument("--out", default="runs/deepfm")
    return ap.parse_args()


def main():
    args = parse_args()
    logging.basicConfig(level=logging.INFO)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

    train_set = CriteoShards(os.path.join(args.data, "train"))
    val_set = CriteoShards(os.path.join(args.data, "val"))
    train_loader = torch.utils.data.DataLoader(
        train_set, batch_size=args.batch_size, shuffle=True, num_workers=8,
        collate_fn=collate_sparse, drop_last=True)
    val_loader = torch.utils.data.DataLoader(
        val_set, batch_size=args.batch_size * 2, num_workers=4, collate_fn=collate_sparse)

    net = DeepFM(train_set.field_dims).to(device)
    opt = torch.optim.Adam(net.parameters(), lr=args.lr, weight_decay=args.l2)
    bce = nn.BCEWithLogitsLoss()

    best_auc = 0.0
    os.makedirs(args.out, exist_ok=True)
    for epoch in range(args.epochs):
        net.train()
        tic = time.time()
        for step, (sparse, label) in enumerate(train_loader):
            sparse, label = sparse.to(device), label.float().to(device)
            loss = bce(net(sparse), label)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()

            if step > 0 and step % args.eval_every == 0:
                auc, ll = evaluate_auc(net, val_loader, device)
                logger.info("epoch %d step %d loss %.4f val_auc %.4f val_logloss %.4f (%.0fs)",
                            epoch, step, loss.item(), auc, ll, time.time() - tic)
                if auc > best_auc:
                    best_auc = auc
                    torch.save(net.state_dict(), os.path.join(args.out, "best.pt"))
    logger.info("best val auc %.4f", best_auc)


if __name__ == "__main__":
    main()
