import copy

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class GhostBatchNorm(nn.Module):
    """BatchNorm over virtual batches of `vbs` rows (TabNet uses momentum 0.02, i.e. PyTorch convention)."""

    def __init__(self, dim, vbs=128, momentum=0.02):
        super().__init__()
        self.vbs = vbs
        self.bn = nn.BatchNorm1d(dim, momentum=momentum)

    def forward(self, x):
        if not self.training:
            return self.bn(x)
        chunks = x.chunk(max(1, int(np.ceil(x.shape[0] / self.vbs))), 0)
        return torch.cat([self.bn(c) for c in chunks], dim=0)


class GLUBlock(nn.Module):
    def __init__(self, d_in, d_out, vbs):
        super().__init__()
        self.fc = nn.Linear(d_in, 2 * d_out, bias=False)
        self.gbn = GhostBatchNorm(2 * d_out, vbs)

    def forward(self, x):
        return F.glu(self.gbn(self.fc(x)), dim=-1)


class ResidualGLUNet(nn.Module):
    def __init__(self, d_in, width=64, depth=4, vbs=128, dropout=0.1):
        super().__init__()
        self.inp = GLUBlock(d_in, width, vbs)
        self.blocks = nn.ModuleList([GLUBlock(width, width, vbs) for _ in range(depth)])
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(width, 1)

    def forward(self, x):
        h = self.inp(x)
        for blk in self.blocks:
            h = (h + blk(h)) * np.sqrt(0.5)
        return self.out(self.drop(h)).squeeze(-1)


class GhostBNRegressor:
    """fit / predict wrapper with early stopping on a validation split."""

    def __init__(self, width=64, depth=4, lr=2e-2, batch_size=1024, max_epochs=200, patience=15, device=None):
        self.width, self.depth, self.lr = width, depth, lr
        self.batch_size, self.max_epochs, self.patience = batch_size, max_epochs, patience
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")

    def _tensor(self, a):
        return torch.as_tensor(np.asarray(a, dtype=np.float32), device=self.device)

    def _val_mse(self, X, y):
        self.network_.eval()
        with torch.no_grad():
            return F.mse_loss(self.network_(X), y).item()

    def fit(self, X, y, eval_set):
        X, y = self._tensor(X), self._tensor(y)
        Xv, yv = (self._tensor(a) for a in eval_set)
        self.network_ = ResidualGLUNet(X.shape[1], self.width, self.depth).to(self.device)
        opt = torch.optim.Adam(self.network_.parameters(), lr=self.lr)
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=10, gamma=0.9)
        best, best_state, wait = np.inf, None, 0
        self.history_ = []
        for epoch in range(self.max_epochs):
            self.network_.train()
            perm = torch.randperm(len(X), device=self.device)
            for i in range(0, len(X), self.batch_size):
                idx = perm[i:i + self.batch_size]
                if idx.numel() < 2:
                    continue
                loss = F.mse_loss(self.network_(X[idx]), y[idx])
                opt.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(self.network_.parameters(), 1.0)
                opt.step()
            sched.step()
            val = self._val_mse(Xv, yv)
            self.history_.append(val)
            if val < best - 1e-6:
                best, best_state, wait = val, copy.deepcopy(self.network_.state_dict()), 0
            else:
                wait += 1
                if wait >= self.patience:
                    break
        self.network_.load_state_dict(best_state)
        self.best_val_mse_ = best
        return self

    def predict(self, X):
        self.network_.eval()
        X = self._tensor(X)
        with torch.no_grad():
            return torch.cat([self.network_(X[i:i + 8192]) for i in range(0, len(X), 8192)]).cpu().numpy()

    def score(self, X, y):
        y = np.asarray(y, dtype=np.float64)
        pred = self.predict(X)
        return 1.0 - ((y - pred) ** 2).sum() / ((y - y.mean()) ** 2).sum()
