"""Optuna search over a tabular MLP with categorical embeddings (credit-default data).

Each trial trains for a few epochs and reports validation AUC after every epoch so that the
Hyperband pruner can stop hopeless configurations early.
"""
from contextlib import contextmanager

import numpy as np
import optuna
import pandas as pd
import torch
import torch.nn as nn
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

DATA = "data/credit_default.parquet"
CAT = ["EDUCATION", "MARRIAGE", "SEX", "PAY_0", "PAY_2", "PAY_3"]


@contextmanager
def eval_mode(module):
    previous = module.training
    module.eval()
    try:
        yield module
    finally:
        module.train(previous)


class EmbMLP(nn.Module):
    def __init__(self, cards, n_num, width, depth, p_drop, emb_dim):
        super().__init__()
        self.embs = nn.ModuleList([nn.Embedding(c, emb_dim) for c in cards])
        layers, d = [], emb_dim * len(cards) + n_num
        for _ in range(depth):
            layers += [nn.Linear(d, width), nn.BatchNorm1d(width), nn.SiLU(), nn.Dropout(p_drop)]
            d = width
        self.mlp = nn.Sequential(*layers, nn.Linear(d, 1))

    def forward(self, xc, xn):
        e = [emb(xc[:, j]) for j, emb in enumerate(self.embs)]
        return self.mlp(torch.cat(e + [xn], dim=1)).squeeze(1)


def load_tensors():
    df = pd.read_parquet(DATA)
    y = df.pop("default").values.astype("float32")
    num_cols = [c for c in df.columns if c not in CAT]
    cats = np.stack([pd.factorize(df[c])[0] for c in CAT], 1)
    nums = ((df[num_cols] - df[num_cols].mean()) / (df[num_cols].std() + 1e-6)).values.astype("float32")
    cards = [int(cats[:, j].max()) + 1 for j in range(len(CAT))]
    split = train_test_split(cats, nums, y, test_size=0.2, random_state=0, stratify=y)
    return cards, [torch.from_numpy(a) for a in split]


CARDS, (XC_TR, XC_VA, XN_TR, XN_VA, Y_TR, Y_VA) = load_tensors()


def objective(trial: optuna.Trial) -> float:
    params = dict(
        width=trial.suggest_int("width", 64, 512, log=True),
        depth=trial.suggest_int("depth", 1, 4),
        p_drop=trial.suggest_float("p_drop", 0.0, 0.5),
        emb_dim=trial.suggest_categorical("emb_dim", [4, 8, 16]),
    )
    lr = trial.suggest_float("lr", 1e-4, 1e-2, log=True)
    net = EmbMLP(CARDS, XN_TR.shape[1], **params)
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
    loss_fn = nn.BCEWithLogitsLoss()
    n = len(Y_TR)

    auc = 0.5
    for epoch in range(15):
        perm = torch.randperm(n)
        for i in range(0, n - 255, 256):
            idx = perm[i:i + 256]
            loss = loss_fn(net(XC_TR[idx], XN_TR[idx]), Y_TR[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()

        with eval_mode(net), torch.no_grad():
            scores = torch.sigmoid(net(XC_VA, XN_VA)).numpy()
        auc = roc_auc_score(Y_VA.numpy(), scores)
        trial.report(auc, epoch)
        if trial.should_prune():
            raise optuna.TrialPruned()
    return auc


if __name__ == "__main__":
    study = optuna.create_study(direction="maximize", pruner=optuna.pruners.HyperbandPruner())
    study.optimize(objective, n_trials=100, timeout=3 * 3600)
    print("best AUC", study.best_value)
    for k, v in study.best_params.items():
        print(f"  {k}: {v}")
