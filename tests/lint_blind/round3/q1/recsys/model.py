"""Ranking (DLRM-style) and retrieval (two-tower) models for the CTR experiments."""
from typing import Dict, List, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F


def mlp(dims: Sequence[int], dropout: float = 0.0, bn: bool = True, last_act: bool = False):
    layers: List[nn.Module] = []
    for i in range(len(dims) - 1):
        layers.append(nn.Linear(dims[i], dims[i + 1]))
        is_last = i == len(dims) - 2
        if is_last and not last_act:
            break
        if bn:
            layers.append(nn.BatchNorm1d(dims[i + 1], momentum=0.01))
        layers.append(nn.ReLU(inplace=True))
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


class DenseArch(nn.Module):
    """Bottom MLP for the 13 continuous Criteo features (log-transformed upstream)."""

    def __init__(self, in_dim: int, dims: Sequence[int]):
        super().__init__()
        self.input_norm = nn.BatchNorm1d(in_dim, momentum=0.99, eps=1e-3)  # expect: MG303
        self.net = mlp([in_dim, *dims], bn=False, last_act=True)

    def forward(self, x):
        return self.net(self.input_norm(x))


class DLRM(nn.Module):
    def __init__(self, cardinalities: Sequence[int], emb_dim=64, dense_in=13,
                 bottom=(512, 256, 64), top=(1024, 1024, 512, 256, 1), dropout=0.2):
        super().__init__()
        assert bottom[-1] == emb_dim
        self.embeddings = nn.ModuleList(
            [nn.EmbeddingBag(c, emb_dim, mode="sum", sparse=True) for c in cardinalities]
        )
        self.dense = DenseArch(dense_in, bottom)
        n = len(cardinalities) + 1
        self.tri = torch.triu_indices(n, n, offset=1)
        top_in = emb_dim + n * (n - 1) // 2
        self.top = mlp([top_in, *top], dropout=dropout, bn=True)

    def interact(self, dense, sparse: List[torch.Tensor]):
        feats = torch.stack([dense] + sparse, dim=1)  # B, n, d
        z = torch.bmm(feats, feats.transpose(1, 2))
        return torch.cat([dense, z[:, self.tri[0], self.tri[1]]], dim=1)

    def forward(self, dense_x, sparse_idx, sparse_offsets):
        d = self.dense(dense_x)
        s = [emb(idx, off) for emb, idx, off in zip(self.embeddings, sparse_idx, sparse_offsets)]
        return self.top(self.interact(d, s)).squeeze(-1)


class Tower(nn.Module):
    def __init__(self, vocab: Dict[str, int], emb_dim=32, hidden=(256, 128), out_dim=64, dropout=0.1):
        super().__init__()
        self.fields = list(vocab)
        self.emb = nn.ModuleDict({f: nn.Embedding(n, emb_dim, padding_idx=0) for f, n in vocab.items()})
        self.mlp = mlp([emb_dim * len(vocab), *hidden, out_dim], dropout=dropout, bn=True)

    def forward(self, feats: Dict[str, torch.Tensor]):
        x = torch.cat([self.emb[f](feats[f]) for f in self.fields], dim=-1)
        return F.normalize(self.mlp(x), dim=-1)


class TwoTower(nn.Module):
    def __init__(self, user_vocab, item_vocab, temperature=0.05, **kw):
        super().__init__()
        self.user_tower = Tower(user_vocab, **kw)
        self.item_tower = Tower(item_vocab, **kw)
        self.temperature = temperature

    def forward(self, user_feats, item_feats):
        u = self.user_tower(user_feats)
        v = self.item_tower(item_feats)
        # in-batch sampled softmax
        return u @ v.t() / self.temperature
