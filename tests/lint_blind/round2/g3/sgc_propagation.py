"""Simplifying Graph Convolution (Wu et al. 2019): K-step feature propagation
followed by a single linear classifier.  Fast baseline for the citation graphs.
"""
import argparse
import time

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn as nn
import torch.nn.functional as F


def normalized_adjacency(adj: sp.spmatrix) -> sp.csr_matrix:
    adj = adj + sp.eye(adj.shape[0])
    deg = np.asarray(adj.sum(1)).flatten()
    d_inv_sqrt = sp.diags(np.power(deg, -0.5))
    return (d_inv_sqrt @ adj @ d_inv_sqrt).tocsr()


def to_torch_sparse(m: sp.csr_matrix) -> torch.Tensor:
    m = m.tocoo()
    idx = torch.tensor(np.vstack([m.row, m.col]), dtype=torch.long)
    return torch.sparse_coo_tensor(idx, torch.tensor(m.data, dtype=torch.float32), m.shape)


def propagate(features: torch.Tensor, adj: torch.Tensor, k: int) -> torch.Tensor:
    for _ in range(k):
        features = torch.sparse.mm(adj, features)
    return features


class SGC(nn.Module):
    def __init__(self, n_feat, n_class):
        super().__init__()
        self.W = nn.Linear(n_feat, n_class)

    def forward(self, x):
        return self.W(x)


@torch.no_grad()
def accuracy(clf, x, y):
    clf.eval()
    return (clf(x).argmax(1) == y).float().mean().item()


@torch.no_grad()
def dump_logits(clf, x, path):
    logits = clf(x)
    np.save(path, logits.cpu().numpy())


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--npz", default="data/citeseer.npz")
    p.add_argument("--degree", type=int, default=2)
    p.add_argument("--epochs", type=int, default=100)
    p.add_argument("--lr", type=float, default=0.2)
    p.add_argument("--weight_decay", type=float, default=5e-5)
    args = p.parse_args()

    z = np.load(args.npz, allow_pickle=True)
    adj = to_torch_sparse(normalized_adjacency(sp.csr_matrix(z["adj"].item())))
    feats = torch.tensor(z["features"], dtype=torch.float32)
    feats = feats / feats.sum(1, keepdim=True).clamp(min=1.0)
    labels = torch.tensor(z["labels"])
    idx_train, idx_val, idx_test = (torch.tensor(z[k]) for k in ("idx_train", "idx_val", "idx_test"))

    t0 = time.perf_counter()
    feats = propagate(feats, adj, args.degree)
    print(f"precompute {time.perf_counter() - t0:.3f}s")

    clf = SGC(feats.size(1), int(labels.max()) + 1)
    opt = torch.optim.Adam(clf.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    clf.train()
    for epoch in range(args.epochs):
        opt.zero_grad()
        loss = F.cross_entropy(clf(feats[idx_train]), labels[idx_train])
        loss.backward()
        opt.step()
        if epoch % 10 == 0:
            va = accuracy(clf, feats[idx_val], labels[idx_val])
            print(f"epoch {epoch:3d} loss {loss.item():.4f} val acc {va:.4f}")

    print(f"test acc {accuracy(clf, feats[idx_test], labels[idx_test]):.4f}")
    dump_logits(clf, feats, "sgc_logits.npy")


if __name__ == "__main__":
    main()
