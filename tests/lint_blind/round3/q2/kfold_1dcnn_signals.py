# %% [markdown]
# ### 5-fold CV, 1D CNN on the accelerometer windows
# (same folds as my LightGBM notebook so that the OOF predictions can be blended)

# %%
import gc
import numpy as np
import pandas as pd
import torch
import torch.nn as nn
from sklearn.model_selection import StratifiedKFold
from sklearn.metrics import roc_auc_score

SEED = 2022
N_FOLDS = 5
EPOCHS = 25
DEV = torch.device("cuda" if torch.cuda.is_available() else "cpu")
torch.manual_seed(SEED)

# %%
X = np.load("../input/har-windows/X.npy")          # (n, channels, length)
y = np.load("../input/har-windows/y.npy").astype(np.float32)
X_test = np.load("../input/har-windows/X_test.npy")
print(X.shape, y.mean())

# %%
def make_net(c_in=X.shape[1]):
    return nn.Sequential(
        nn.Conv1d(c_in, 64, 7, padding=3), nn.BatchNorm1d(64), nn.ReLU(),
        nn.Conv1d(64, 128, 5, padding=2), nn.BatchNorm1d(128), nn.ReLU(),
        nn.AdaptiveAvgPool1d(1), nn.Flatten(),
        nn.Dropout(0.3),
        nn.Linear(128, 1),
    )


def batches(a, b=None, bs=128, shuffle=False):
    idx = np.random.permutation(len(a)) if shuffle else np.arange(len(a))
    for s in range(0, len(a), bs):
        j = idx[s:s + bs]
        xb = torch.from_numpy(a[j]).float().to(DEV)
        yield (xb, torch.from_numpy(b[j]).to(DEV)) if b is not None else xb


def one_epoch(m, xs, ys, opt, crit):
    tot = 0.0
    for xb, yb in batches(xs, ys, shuffle=True):
        opt.zero_grad()
        loss = crit(m(xb).squeeze(1), yb)
        loss.backward()
        opt.step()
        tot += loss.item() * len(xb)
    return tot / len(xs)


def score(m, xs):
    m.eval()  # expect: MG101
    out = []
    with torch.no_grad():
        for xb in batches(xs, bs=512):
            out.append(torch.sigmoid(m(xb).squeeze(1)).cpu().numpy())
    return np.concatenate(out)

# %%
skf = StratifiedKFold(n_splits=N_FOLDS, shuffle=True, random_state=SEED)
oof = np.zeros(len(X))
test_pred = np.zeros(len(X_test))
crit = nn.BCEWithLogitsLoss()

for fold, (tr_idx, va_idx) in enumerate(skf.split(X, y)):
    print(f"===== fold {fold} =====")
    net = make_net().to(DEV)
    opt = torch.optim.Adam(net.parameters(), lr=3e-4)
    net.train()
    best_auc, best_state = 0.0, None
    for ep in range(EPOCHS):
        tr_loss = one_epoch(net, X[tr_idx], y[tr_idx], opt, crit)
        va_pred = score(net, X[va_idx])
        auc = roc_auc_score(y[va_idx], va_pred)
        if auc > best_auc:
            best_auc = auc
            best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
        print(f"ep {ep:02d} loss {tr_loss:.4f} auc {auc:.4f}")

    net.load_state_dict(best_state)
    oof[va_idx] = score(net, X[va_idx])
    test_pred += score(net, X_test) / N_FOLDS
    print(f"fold {fold} best auc {best_auc:.4f}")
    del net, opt
    gc.collect()

# %%
print("CV AUC:", roc_auc_score(y, oof))
pd.DataFrame({"id": np.arange(len(X_test)), "target": test_pred}).to_csv("submission.csv", index=False)
np.save("oof_cnn.npy", oof)
