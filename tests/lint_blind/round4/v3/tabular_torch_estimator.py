"""scikit-learn compatible MLP classifier for tabular data, so it can sit in a Pipeline/GridSearchCV."""
import numpy as np
import torch
import torch.nn as nn
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.validation import check_is_fitted, check_X_y, check_array


def _mlp(n_in, n_out, hidden, dropout):
    layers, d = [], n_in
    for h in hidden:
        layers += [nn.Linear(d, h), nn.BatchNorm1d(h, momentum=0.99), nn.ReLU(), nn.Dropout(dropout)]  # expect: MG303
        d = h
    layers.append(nn.Linear(d, n_out))
    return nn.Sequential(*layers)


class TorchMLPClassifier(BaseEstimator, ClassifierMixin):
    def __init__(self, hidden=(256, 128), dropout=0.2, lr=1e-3, weight_decay=1e-5,
                 batch_size=256, max_epochs=50, device="cpu", random_state=None, verbose=0):
        self.hidden = hidden
        self.dropout = dropout
        self.lr = lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    def fit(self, X, y):
        X, y = check_X_y(X, y, dtype=np.float32)
        if self.random_state is not None:
            torch.manual_seed(self.random_state)
        self.label_encoder_ = LabelEncoder().fit(y)
        self.classes_ = self.label_encoder_.classes_
        y_idx = self.label_encoder_.transform(y)
        self.n_features_in_ = X.shape[1]
        self.module_ = _mlp(X.shape[1], len(self.classes_), self.hidden, self.dropout).to(self.device)
        opt = torch.optim.AdamW(self.module_.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        loss_fn = nn.CrossEntropyLoss()
        Xt = torch.from_numpy(X)
        yt = torch.from_numpy(y_idx).long()
        self.loss_curve_ = []
        self.module_.train()
        for epoch in range(self.max_epochs):
            perm = torch.randperm(len(Xt))
            epoch_loss = 0.0
            for i in range(0, len(Xt), self.batch_size):
                idx = perm[i:i + self.batch_size]
                if len(idx) < 2:
                    continue
                xb, yb = Xt[idx].to(self.device), yt[idx].to(self.device)
                loss = loss_fn(self.module_(xb), yb)
                opt.zero_grad()
                loss.backward()
                opt.step()
                epoch_loss += loss.item() * len(idx)
            self.loss_curve_.append(epoch_loss / len(Xt))
            if self.verbose:
                print(f"epoch {epoch}: loss {self.loss_curve_[-1]:.4f}")
        return self

    def predict_proba(self, X):
        check_is_fitted(self, "module_")
        X = check_array(X, dtype=np.float32)
        out = []
        with torch.no_grad():
            for i in range(0, len(X), 4096):
                logits = self.module_(torch.from_numpy(X[i:i + 4096]).to(self.device))  # expect: MG102
                out.append(torch.softmax(logits, dim=1).cpu().numpy())
        return np.concatenate(out)

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(1)]


if __name__ == "__main__":
    from sklearn.datasets import fetch_covtype
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = fetch_covtype(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.2, random_state=0)
    clf = make_pipeline(StandardScaler(), TorchMLPClassifier(max_epochs=20, verbose=1))
    clf.fit(X_tr, y_tr)
    print("test accuracy", clf.score(X_te, y_te))
