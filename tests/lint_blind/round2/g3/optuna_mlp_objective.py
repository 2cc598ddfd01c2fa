"""Optuna study for a GRU classifier on fixed-length sensor windows.

Each trial trains with early stopping; the study persists to SQLite so that
several workers can share it:  python optuna_mlp_objective.py --storage sqlite:///gru.db
"""
import argparse
import logging

import numpy as np
import optuna
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

log = logging.getLogger(__name__)


class GRUClassifier(nn.Module):
    def __init__(self, n_feat, hidden, layers, n_classes, p_rnn, p_head, bidirectional):
        super().__init__()
        self.gru = nn.GRU(n_feat, hidden, num_layers=layers, batch_first=True,
                          dropout=p_rnn if layers > 1 else 0.0, bidirectional=bidirectional)
        d = hidden * (2 if bidirectional else 1)
        self.head = nn.Sequential(nn.LayerNorm(d), nn.Dropout(p_head), nn.Linear(d, n_classes))

    def forward(self, x):
        out, _ = self.gru(x)
        return self.head(out.mean(1))


class Objective:
    def __init__(self, splits, device, max_epochs=60, patience=8):
        self.splits = splits
        self.device = device
        self.max_epochs = max_epochs
        self.patience = patience

    def _loaders(self, bs):
        (xtr, ytr), (xva, yva), _ = self.splits
        tr = DataLoader(TensorDataset(xtr, ytr), batch_size=bs, shuffle=True, drop_last=True)
        va = DataLoader(TensorDataset(xva, yva), batch_size=1024)
        return tr, va

    def _fit_epoch(self, clf, loader, opt, crit):
        clf.train()
        for xb, yb in loader:
            xb, yb = xb.to(self.device), yb.to(self.device)
            opt.zero_grad()
            crit(clf(xb), yb).backward()
            nn.utils.clip_grad_norm_(clf.parameters(), 5.0)
            opt.step()

    def _macro_f1(self, clf, loader):
        clf.eval()
        preds, gold = [], []
        with torch.no_grad():
            for xb, yb in loader:
                preds.append(clf(xb.to(self.device)).argmax(-1).cpu())
                gold.append(yb)
        p, g = torch.cat(preds), torch.cat(gold)
        f1s = []
        for c in g.unique():
            tp = ((p == c) & (g == c)).sum().item()
            fp = ((p == c) & (g != c)).sum().item()
            fn = ((p != c) & (g == c)).sum().item()
            f1s.append(2 * tp / max(2 * tp + fp + fn, 1))
        return float(np.mean(f1s))

    def __call__(self, trial: optuna.Trial) -> float:
        n_feat = self.splits[0][0].shape[-1]
        n_classes = int(self.splits[0][1].max()) + 1
        clf = GRUClassifier(
            n_feat,
            hidden=trial.suggest_int("hidden", 32, 256, log=True),
            layers=trial.suggest_int("layers", 1, 3),
            n_classes=n_classes,
            p_rnn=trial.suggest_float("p_rnn", 0.0, 0.5),
            p_head=trial.suggest_float("p_head", 0.0, 0.5),
            bidirectional=trial.suggest_categorical("bidir", [True, False]),
        ).to(self.device)
        opt = torch.optim.Adam(clf.parameters(), lr=trial.suggest_float("lr", 1e-4, 3e-3, log=True))
        crit = nn.CrossEntropyLoss(label_smoothing=trial.suggest_float("smoothing", 0.0, 0.2))
        tr, va = self._loaders(trial.suggest_categorical("bs", [32, 64, 128]))

        best, stale, best_state = -1.0, 0, None
        for epoch in range(self.max_epochs):
            self._fit_epoch(clf, tr, opt, crit)
            f1 = self._macro_f1(clf, va)
            trial.report(f1, epoch)
            if trial.should_prune():
                raise optuna.TrialPruned()
            if f1 > best:
                best, stale = f1, 0
                best_state = {k: v.clone() for k, v in clf.state_dict().items()}
            else:
                stale += 1
                if stale >= self.patience:
                    break

        clf.load_state_dict(best_state)
        xte, yte = self.splits[2]
        clf.eval()
        with torch.inference_mode():
            test_pred = clf(xte.to(self.device)).argmax(-1).cpu()
        trial.set_user_attr("test_acc", (test_pred == yte).float().mean().item())
        return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--npz", default="data/windows.npz")
    ap.add_argument("--storage", default=None)
    ap.add_argument("--trials", type=int, default=100)
    a = ap.parse_args()
    logging.basicConfig(level=logging.INFO)

    z = np.load(a.npz)
    as_t = lambda x, y: (torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.long))
    splits = (as_t(z["x_tr"], z["y_tr"]), as_t(z["x_va"], z["y_va"]), as_t(z["x_te"], z["y_te"]))
    device = "cuda" if torch.cuda.is_available() else "cpu"

    study = optuna.create_study(study_name="gru-windows", storage=a.storage, load_if_exists=True,
                                direction="maximize", pruner=optuna.pruners.HyperbandPruner())
    study.optimize(Objective(splits, device), n_trials=a.trials, gc_after_trial=True)
    log.info("best %.4f with %s (test acc %.4f)", study.best_value, study.best_params,
             study.best_trial.user_attrs.get("test_acc", float("nan")))


if __name__ == "__main__":
    main()
