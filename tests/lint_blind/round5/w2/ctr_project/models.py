"""Model zoo for the CTR pipeline. Models are registered by name and built from a config dict."""
import torch
import torch.nn as nn

MODELS = {}


def register(name):
    def deco(cls):
        MODELS[name] = cls
        return cls
    return deco


class CrossNetV2(nn.Module):
    def __init__(self, dim, n_layers):
        super().__init__()
        self.kernels = nn.ModuleList([nn.Linear(dim, dim) for _ in range(n_layers)])

    def forward(self, x0):
        x = x0
        for lin in self.kernels:
            x = x0 * lin(x) + x
        return x


def mlp(in_dim, hidden, dropout, use_bn=True):
    layers = []
    for h in hidden:
        layers.append(nn.Linear(in_dim, h))
        if use_bn:
            layers.append(nn.BatchNorm1d(h))
        layers += [nn.ReLU(), nn.Dropout(dropout)]
        in_dim = h
    return nn.Sequential(*layers), in_dim


class SparseEmbedding(nn.Module):
    def __init__(self, vocab_sizes, dim):
        super().__init__()
        self.tables = nn.ModuleList([nn.Embedding(v, dim) for v in vocab_sizes])

    def forward(self, sparse):
        return torch.cat([t(sparse[:, i]) for i, t in enumerate(self.tables)], dim=1)


@register("dcn_v2")
class DCNv2(nn.Module):
    def __init__(self, vocab_sizes, n_dense, embed_dim=16, cross_layers=3,
                 hidden=(512, 256), dropout=0.2):
        super().__init__()
        self.emb = SparseEmbedding(vocab_sizes, embed_dim)
        in_dim = embed_dim * len(vocab_sizes) + n_dense
        self.cross = CrossNetV2(in_dim, cross_layers)
        self.deep, deep_out = mlp(in_dim, hidden, dropout)
        self.out = nn.Linear(in_dim + deep_out, 1)

    def forward(self, sparse, dense):
        x0 = torch.cat([self.emb(sparse), dense], dim=1)
        return self.out(torch.cat([self.cross(x0), self.deep(x0)], dim=1)).squeeze(1)


@register("wide_deep")
class WideDeep(nn.Module):
    def __init__(self, vocab_sizes, n_dense, embed_dim=16, hidden=(256, 128), dropout=0.3):
        super().__init__()
        self.wide = SparseEmbedding(vocab_sizes, 1)
        self.emb = SparseEmbedding(vocab_sizes, embed_dim)
        self.deep, deep_out = mlp(embed_dim * len(vocab_sizes) + n_dense, hidden, dropout)
        self.head = nn.Linear(deep_out, 1)

    def forward(self, sparse, dense):
        wide = self.wide(sparse).sum(1)
        deep = self.head(self.deep(torch.cat([self.emb(sparse), dense], dim=1))).squeeze(1)
        return wide + deep


def build_model(cfg):
    kwargs = dict(cfg.get("model_args", {}))
    return MODELS[cfg["model"]](cfg["vocab_sizes"], cfg["n_dense"], **kwargs)
