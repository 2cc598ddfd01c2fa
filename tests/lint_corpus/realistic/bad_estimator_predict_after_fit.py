"""A scikit-learn style wrapper: fit() leaves the network in training mode and predict() runs
it under no_grad without eval(): dropout stays on in every prediction."""
import numpy as np
import torch
from torch import nn


class MLPClassifier:
    def __init__(self, n_in, n_classes, epochs=20):
        self.net_ = nn.Sequential(nn.Linear(n_in, 64), nn.ReLU(), nn.Dropout(0.3),
                                  nn.Linear(64, n_classes))
        self.epochs = epochs

    def fit(self, X, y):
        X, y = torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(y)
        optimizer = torch.optim.Adam(self.net_.parameters())
        for _ in range(self.epochs):
            self.net_.train()
            loss = nn.functional.cross_entropy(self.net_(X), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        return self

    def predict(self, X):
        with torch.no_grad():
            logits = self.net_(torch.as_tensor(X, dtype=torch.float32))  # expect: MG102
        return np.asarray(logits.argmax(1))
