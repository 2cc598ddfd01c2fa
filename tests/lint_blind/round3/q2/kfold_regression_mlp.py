# Kaggle "Playground S3E" - 10-fold CV MLP, OOF + test averaging
import random

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset
from sklearn.model_selection import KFold
from sklearn.metrics import mean_squared_error

CFG = dict(folds=10, epochs=60, bs=512, lr=2e-3, seed=42, patience=8)


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)


seed_everything(CFG["seed"])
dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")

df = pd.read_csv("/kaggle/input/playground-series-s3e1/train.csv")
te = pd.read_csv("/kaggle/input/playground-series-s3e1/test.csv")
feats = [c for c in df.columns if c not in ("id", "MedHouseVal")]
mu, sd = df[feats].mean(), df[feats].std()
Xall = ((df[feats] - mu) / sd).values.astype(np.float32)
yall = df["MedHouseVal"].values.astype(np.float32)
Xte = ((te[feats] - mu) / sd).values.astype(np.float32)


class Rows(Dataset):
    def __init__(self, X, y=None):
        self.X, self.y = X, y

    def __len__(self):
        return len(self.X)

    def __getitem__(self, i):
        if self.y is None:
            return self.X[i]
        return self.X[i], self.y[i]


class Regressor(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(d, 256), nn.BatchNorm1d(256), nn.GELU(), nn.Dropout(0.15),
            nn.Linear(256, 128), nn.BatchNorm1d(128), nn.GELU(), nn.Dropout(0.15),
            nn.Linear(128, 1),
        )

    def forward(self, x):
        return self.net(x).squeeze(-1)


def train_epoch(m, dl, opt, sched):
    m.train()
    for xb, yb in dl:
        xb, yb = xb.to(dev), yb.to(dev)
        loss = nn.functional.mse_loss(m(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()


@torch.inference_mode()
def predict(m, dl):
    m.eval()
    out = []
    for batch in dl:
        xb = batch[0] if isinstance(batch, (list, tuple)) else batch
        out.append(m(xb.to(dev)).cpu().numpy())
    return np.concatenate(out)


oof = np.zeros(len(Xall))
test_preds = np.zeros(len(Xte))
te_dl = DataLoader(Rows(Xte), batch_size=4096)

for k, (ti, vi) in enumerate(KFold(CFG["folds"], shuffle=True, random_state=CFG["seed"]).split(Xall)):
    tr_dl = DataLoader(Rows(Xall[ti], yall[ti]), batch_size=CFG["bs"], shuffle=True, drop_last=True)
    va_dl = DataLoader(Rows(Xall[vi], yall[vi]), batch_size=4096)
    m = Regressor(len(feats)).to(dev)
    opt = torch.optim.AdamW(m.parameters(), lr=CFG["lr"], weight_decay=1e-5)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=CFG["lr"], total_steps=CFG["epochs"] * len(tr_dl))
    best, wait, best_sd = np.inf, 0, None
    for ep in range(CFG["epochs"]):
        train_epoch(m, tr_dl, opt, sched)
        rmse = mean_squared_error(yall[vi], predict(m, va_dl), squared=False)
        if rmse < best:
            best, wait = rmse, 0
            best_sd = {n: t.detach().cpu().clone() for n, t in m.state_dict().items()}
        else:
            wait += 1
            if wait > CFG["patience"]:
                break
    m.load_state_dict(best_sd)
    oof[vi] = predict(m, va_dl)
    test_preds += predict(m, te_dl) / CFG["folds"]
    print(f"fold {k}: rmse {best:.5f} (stopped at epoch {ep})")

print("OOF RMSE", mean_squared_error(yall, oof, squared=False))
pd.DataFrame({"id": te["id"], "MedHouseVal": test_preds}).to_csv("submission.csv", index=False)
