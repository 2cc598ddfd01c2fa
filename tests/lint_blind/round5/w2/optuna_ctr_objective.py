"""Hyper-parameter search for the production ranker (Optuna, TPE + median pruning)."""
import json
import math
from functools import partial

import optuna
import torch
import torch.nn.functional as F

from ranker.data import make_loaders
from ranker.factory import build_ranker

SEARCH_SPACE = {
    "embed_dim": [8, 16, 32],
    "mlp_layers": (1, 4),
    "dropout": (0.0, 0.5),
    "lr": (1e-4, 3e-2),
    "weight_decay": (1e-8, 1e-4),
}


def _sample(trial):
    return {
        "embed_dim": trial.suggest_categorical("embed_dim", SEARCH_SPACE["embed_dim"]),
        "mlp_layers": trial.suggest_int("mlp_layers", *SEARCH_SPACE["mlp_layers"]),
        "dropout": trial.suggest_float("dropout", *SEARCH_SPACE["dropout"]),
        "lr": trial.suggest_float("lr", *SEARCH_SPACE["lr"], log=True),
        "weight_decay": trial.suggest_float("weight_decay", *SEARCH_SPACE["weight_decay"], log=True),
        "epochs": 6,
    }


def _val_logloss(ranker, loader, device):
    ranker.eval()  # expect: MG101
    total, n = 0.0, 0
    with torch.no_grad():
        for feats, clicks in loader:
            feats = {k: v.to(device) for k, v in feats.items()}
            logits = ranker(feats)
            total += F.binary_cross_entropy_with_logits(
                logits, clicks.to(device).float(), reduction="sum").item()
            n += clicks.numel()
    return total / max(n, 1)


def objective(trial, data_dir, device):
    cfg = _sample(trial)
    train_loader, val_loader = make_loaders(data_dir, batch_size=2048)
    ranker = build_ranker(cfg).to(device)
    optim = torch.optim.AdamW(ranker.parameters(), lr=cfg["lr"],
                              weight_decay=cfg["weight_decay"])

    best = math.inf
    ranker.train()
    for epoch in range(cfg["epochs"]):
        for feats, clicks in train_loader:
            feats = {k: v.to(device) for k, v in feats.items()}
            loss = F.binary_cross_entropy_with_logits(ranker(feats), clicks.to(device).float())
            optim.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(ranker.parameters(), 10.0)
            optim.step()

        val = _val_logloss(ranker, val_loader, device)
        best = min(best, val)
        trial.report(val, epoch)
        if trial.should_prune():
            raise optuna.TrialPruned()
    return best


def run_study(data_dir="/data/ranker/daily", n_trials=60, storage=None):
    device = "cuda" if torch.cuda.is_available() else "cpu"
    study = optuna.create_study(
        direction="minimize",
        sampler=optuna.samplers.TPESampler(seed=17),
        pruner=optuna.pruners.MedianPruner(n_warmup_steps=2),
        storage=storage,
        study_name="ranker-hpo",
        load_if_exists=True,
    )
    study.optimize(partial(objective, data_dir=data_dir, device=device), n_trials=n_trials)
    with open("best_params.json", "w") as fh:
        json.dump(study.best_params, fh, indent=2)
    return study


if __name__ == "__main__":
    run_study()
