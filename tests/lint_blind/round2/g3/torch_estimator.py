"""A scikit-learn compatible classifier around a small PyTorch network.

>>> clf = TorchMLPClassifier(hidden=(256, 128), max_epochs=40)
>>> clf.fit(X_train, y_train).score(X_test, y_test)
"""
from __future__ import annotations

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.validation import check_array, check_is_fitted, check_X_y
from torch import nn


def _mlp(n_in, hidden, n_out, dropout, batchnorm):
    layers, d = [], n_in
    for h in hidden:
        layers.append(nn.Linear(d, h))
        if batchnorm:
            layers.append(nn.BatchNorm1d(h))
        layers += [nn.ReLU(), nn.Dropout(dropout)]
        d = h
    layers.append(nn.Linear(d, n_out))
    return nn.Sequential(*layers)


class TorchMLPClassifier(ClassifierMixin, BaseEstimator):
    def __init__(self, hidden=(128,), dropout=0.2, batchnorm=True, lr=1e-3, weight_decay=0.0,
                 batch_size=128, max_epochs=50, device="cpu", random_state=None, verbose=0):
        self.hidden = hidden
        self.dropout = dropout
        self.batchnorm = batchnorm
        self.lr = lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    def fit(self, X, y, sample_weight=None):
        X, y = check_X_y(X, y, dtype=np.float32)
        self.label_encoder_ = LabelEncoder().fit(y)
        self.classes_ = self.label_encoder_.classes_
        y_enc = self.label_encoder_.transform(y)
        if self.random_state is not None:
            torch.manual_seed(self.random_state)
        self.n_features_in_ = X.shape[1]
        self.module_ = _mlp(X.shape[1], self.hidden, len(self.classes_), self.dropout, self.batchnorm)
        self.module_.to(self.device)

        Xt = torch.from_numpy(X).to(self.device)
        yt = torch.from_numpy(y_enc).long().to(self.device)
        wt = None if sample_weight is None else torch.as_tensor(sample_weight, dtype=torch.float32, device=self.device)
        optim = torch.optim.Adam(self.module_.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        crit = nn.CrossEntropyLoss(reduction="none")
        self.loss_curve_ = []

        for epoch in range(self.max_epochs):
            self.module_.train()
            perm = torch.randperm(len(Xt), device=self.device)
            total = 0.0
            for start in range(0, len(perm), self.batch_size):
                idx = perm[start:start + self.batch_size]
                if len(idx) == 1 and self.batchnorm:
                    continue
                per_sample = crit(self.module_(Xt[idx]), yt[idx])
                loss = (per_sample * wt[idx]).mean() if wt is not None else per_sample.mean()
                optim.zero_grad()
                loss.backward()
                optim.step()
                total += loss.item() * len(idx)
            self.loss_curve_.append(total / len(Xt))
            if self.verbose:
                print(f"epoch {epoch + 1}/{self.max_epochs} loss={self.loss_curve_[-1]:.4f}")
        return self

    def _logits(self, X):
        check_is_fitted(self, "module_")
        X = check_array(X, dtype=np.float32)
        chunks = []
        with torch.no_grad():
            for start in range(0, len(X), 4096):
                xb = torch.from_numpy(X[start:start + 4096]).to(self.device)
                chunks.append(self.module_(xb).cpu())  # expect: MG102
        return torch.cat(chunks)

    def predict_proba(self, X):
        return torch.softmax(self._logits(X), dim=1).numpy()

    def predict(self, X):
        return self.classes_[self._logits(X).argmax(1).numpy()]

    def decision_function(self, X):
        logits = self._logits(X).numpy()
        return logits[:, 1] - logits[:, 0] if logits.shape[1] == 2 else logits
