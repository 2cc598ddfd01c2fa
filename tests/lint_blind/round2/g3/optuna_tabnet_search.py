"""Hyper-parameter search for a residual MLP on the forest-cover data (Optuna + TPE)."""
import json
import os

import numpy as np
import optuna
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import fetch_covtype
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")
N_EPOCHS = 25


class ResBlock(nn.Module):
    def __init__(self, d, d_hidden, p_hidden, p_res):
        super().__init__()
        self.norm = nn.BatchNorm1d(d)
        self.lin1 = nn.Linear(d, d_hidden)
        self.lin2 = nn.Linear(d_hidden, d)
        self.p_hidden, self.p_res = p_hidden, p_res

    def forward(self, x):
        h = F.relu(self.lin1(self.norm(x)))
        h = F.dropout(h, self.p_hidden, training=self.training)
        h = F.dropout(self.lin2(h), self.p_res, training=self.training)
        return x + h


class ResNetTab(nn.Module):
    def __init__(self, d_in, n_classes, d, n_blocks, d_hidden, p_hidden, p_res):
        super().__init__()
        self.first = nn.Linear(d_in, d)
        self.blocks = nn.Sequential(*[ResBlock(d, d_hidden, p_hidden, p_res) for _ in range(n_blocks)])
        self.last = nn.Sequential(nn.BatchNorm1d(d), nn.ReLU(), nn.Linear(d, n_classes))

    def forward(self, x):
        return self.last(self.blocks(self.first(x)))


def load_data():
    X, y = fetch_covtype(return_X_y=True)
    y = y - 1
    X_tmp, X_test, y_tmp, y_test = train_test_split(X, y, test_size=0.2, random_state=0, stratify=y)
    X_tr, X_va, y_tr, y_va = train_test_split(X_tmp, y_tmp, test_size=0.2, random_state=0, stratify=y_tmp)
    sc = StandardScaler().fit(X_tr)
    t = lambda a, dt=torch.float32: torch.tensor(a, dtype=dt, device=DEVICE)
    return (t(sc.transform(X_tr)), t(y_tr, torch.long), t(sc.transform(X_va)), t(y_va, torch.long),
            t(sc.transform(X_test)), t(y_test, torch.long))


DATA = None


@torch.no_grad()
def accuracy(net, X, y, bs=8192):
    net.eval()
    hits = 0
    for i in range(0, len(X), bs):
        hits += (net(X[i:i + bs]).argmax(1) == y[i:i + bs]).sum().item()
    return hits / len(X)


def objective(trial: optuna.Trial) -> float:
    X_tr, y_tr, X_va, y_va, X_te, y_te = DATA
    d = trial.suggest_categorical("d", [128, 256, 512])
    net = ResNetTab(
        X_tr.shape[1], 7, d,
        n_blocks=trial.suggest_int("n_blocks", 1, 6),
        d_hidden=d * trial.suggest_int("hidden_factor", 1, 4),
        p_hidden=trial.suggest_float("p_hidden", 0.0, 0.5),
        p_res=trial.suggest_float("p_res", 0.0, 0.3),
    ).to(DEVICE)
    opt = torch.optim.AdamW(net.parameters(), lr=trial.suggest_float("lr", 1e-4, 1e-2, log=True),
                            weight_decay=trial.suggest_float("wd", 1e-6, 1e-3, log=True))
    bs = trial.suggest_categorical("batch_size", [256, 512, 1024])

    best = 0.0
    for epoch in range(N_EPOCHS):
        net.train()
        perm = torch.randperm(len(X_tr), device=DEVICE)
        for i in range(0, len(perm), bs):
            idx = perm[i:i + bs]
            if len(idx) < 2:
                continue
            loss = F.cross_entropy(net(X_tr[idx]), y_tr[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        acc = accuracy(net, X_va, y_va)
        best = max(best, acc)
        trial.report(acc, epoch)
        if trial.should_prune():
            raise optuna.TrialPruned()

    # record held-out numbers for the final report; not used by the sampler
    net.eval()
    test_logits = net(X_te)  # expect: MG401
    trial.set_user_attr("test_acc", (test_logits.argmax(1) == y_te).float().mean().item())
    trial.set_user_attr("test_nll", F.cross_entropy(test_logits, y_te).item())
    return best


if __name__ == "__main__":
    DATA = load_data()
    study = optuna.create_study(direction="maximize",
                                sampler=optuna.samplers.TPESampler(seed=0),
                                pruner=optuna.pruners.MedianPruner(n_warmup_steps=5))
    study.optimize(objective, n_trials=int(os.environ.get("N_TRIALS", 60)))
    print("best value:", study.best_value)
    with open("best_params.json", "w") as f:
        json.dump({"params": study.best_params, **study.best_trial.user_attrs}, f, indent=2)
