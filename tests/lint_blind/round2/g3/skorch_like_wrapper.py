"""sklearn-style regressor around an embedding MLP for mixed categorical/numeric tables.

Designed to drop into sklearn Pipelines and GridSearchCV:

    pipe = make_pipeline(FeatureBuilder(formulas), EntityEmbeddingRegressor(cat_cols=[...]))
"""
import copy

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator, RegressorMixin, TransformerMixin
from sklearn.model_selection import train_test_split
from torch import nn


class FeatureBuilder(BaseEstimator, TransformerMixin):
    """Adds columns defined by pandas expressions, e.g. ``"area_per_room = area / rooms"``."""

    def __init__(self, formulas=()):
        self.formulas = formulas

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        X = X.copy()
        for f in self.formulas:
            X = X.eval(f)
        return X


class _EmbMLP(nn.Module):
    def __init__(self, cardinalities, n_num, emb_dim, hidden, p):
        super().__init__()
        self.embs = nn.ModuleList(nn.Embedding(c + 1, min(emb_dim, (c + 1) // 2 + 1)) for c in cardinalities)
        d = sum(e.embedding_dim for e in self.embs) + n_num
        self.num_bn = nn.BatchNorm1d(n_num) if n_num else nn.Identity()
        self.emb_drop = nn.Dropout(p / 2)
        layers = []
        for h in hidden:
            layers += [nn.Linear(d, h), nn.ReLU(), nn.BatchNorm1d(h), nn.Dropout(p)]
            d = h
        self.mlp = nn.Sequential(*layers, nn.Linear(d, 1))

    def forward(self, x_cat, x_num):
        e = torch.cat([emb(x_cat[:, i]) for i, emb in enumerate(self.embs)], dim=1)
        return self.mlp(torch.cat([self.emb_drop(e), self.num_bn(x_num)], dim=1)).squeeze(1)


class EntityEmbeddingRegressor(RegressorMixin, BaseEstimator):
    def __init__(self, cat_cols=(), emb_dim=16, hidden=(512, 256), dropout=0.2, lr=1e-3,
                 batch_size=256, max_epochs=100, patience=10, valid_fraction=0.1, random_state=0):
        self.cat_cols = cat_cols
        self.emb_dim = emb_dim
        self.hidden = hidden
        self.dropout = dropout
        self.lr = lr
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.patience = patience
        self.valid_fraction = valid_fraction
        self.random_state = random_state

    def _encode(self, X: pd.DataFrame):
        cat = np.stack([X[c].map(self.vocab_[c]).fillna(0).to_numpy(np.int64) for c in self.cat_cols], axis=1) \
            if self.cat_cols else np.zeros((len(X), 0), np.int64)
        num = ((X[self.num_cols_].to_numpy(np.float32) - self.num_mean_) / self.num_std_)
        return torch.from_numpy(cat), torch.from_numpy(np.nan_to_num(num))

    def fit(self, X: pd.DataFrame, y):
        torch.manual_seed(self.random_state)
        y = np.asarray(y, dtype=np.float32)
        self.vocab_ = {c: {v: i + 1 for i, v in enumerate(X[c].astype(str).unique())} for c in self.cat_cols}
        X = X.assign(**{c: X[c].astype(str) for c in self.cat_cols})
        self.num_cols_ = [c for c in X.columns if c not in self.cat_cols]
        self.num_mean_ = X[self.num_cols_].mean().to_numpy(np.float32)
        self.num_std_ = X[self.num_cols_].std().to_numpy(np.float32) + 1e-6
        self.y_mean_, self.y_std_ = float(y.mean()), float(y.std() + 1e-6)

        Xtr, Xva, ytr, yva = train_test_split(X, (y - self.y_mean_) / self.y_std_,
                                              test_size=self.valid_fraction, random_state=self.random_state)
        ctr, ntr = self._encode(Xtr)
        cva, nva = self._encode(Xva)
        ytr_t, yva_t = torch.from_numpy(ytr), torch.from_numpy(yva)

        self.net_ = _EmbMLP([len(self.vocab_[c]) for c in self.cat_cols], len(self.num_cols_),
                            self.emb_dim, self.hidden, self.dropout)
        opt = torch.optim.AdamW(self.net_.parameters(), lr=self.lr)
        best, best_state, wait = np.inf, None, 0
        for epoch in range(self.max_epochs):
            self.net_.train()
            perm = torch.randperm(len(ytr_t))
            for s in range(0, len(perm) - 1, self.batch_size):
                i = perm[s:s + self.batch_size]
                loss = nn.functional.mse_loss(self.net_(ctr[i], ntr[i]), ytr_t[i])
                opt.zero_grad()
                loss.backward()
                opt.step()
            self.net_.eval()
            with torch.no_grad():
                val = nn.functional.mse_loss(self.net_(cva, nva), yva_t).item()
            if val < best:
                best, best_state, wait = val, copy.deepcopy(self.net_.state_dict()), 0
            elif (wait := wait + 1) >= self.patience:
                break
        self.net_.load_state_dict(best_state)
        self.best_valid_mse_ = best * self.y_std_ ** 2
        return self

    def predict(self, X: pd.DataFrame):
        X = X.assign(**{c: X[c].astype(str) for c in self.cat_cols})
        c, n = self._encode(X)
        self.net_.eval()
        with torch.no_grad():
            out = torch.cat([self.net_(c[s:s + 8192], n[s:s + 8192]) for s in range(0, len(c), 8192)])
        return out.numpy() * self.y_std_ + self.y_mean_


def rent_features():
    return FeatureBuilder(formulas=("area_per_room = area / (rooms + 1)", "age = 2024 - year_built"))


if __name__ == "__main__":
    df = pd.read_csv("data/rents.csv")
    target = df.pop("rent")
    threshold = target.quantile(0.99)
    keep = target < threshold
    model = EntityEmbeddingRegressor(cat_cols=["district", "heating"], max_epochs=50)
    model.fit(rent_features().fit_transform(df[keep]), target[keep])
    print(model.best_valid_mse_)
