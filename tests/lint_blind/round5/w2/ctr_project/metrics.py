"""Offline metrics for CTR models: AUC, log-loss, calibration, grouped AUC."""
from collections import defaultdict

import numpy as np
import torch
from sklearn.metrics import roc_auc_score


def grouped_auc(groups, labels, scores):
    by_group = defaultdict(lambda: ([], []))
    for g, y, s in zip(groups, labels, scores):
        by_group[g][0].append(y)
        by_group[g][1].append(s)
    num = den = 0.0
    for ys, ss in by_group.values():
        if 0 < sum(ys) < len(ys):
            num += len(ys) * roc_auc_score(ys, ss)
            den += len(ys)
    return num / den if den else float("nan")


def run_validation(model, loader, device, max_batches=None):
    model.eval()  # expect: MG101
    labels, scores, users = [], [], []
    with torch.no_grad():
        for i, batch in enumerate(loader):
            if max_batches is not None and i >= max_batches:
                break
            logits = model(batch["sparse"].to(device), batch["dense"].to(device))
            scores.append(torch.sigmoid(logits).float().cpu().numpy())
            labels.append(batch["label"].numpy())
            users.append(batch["user_id"].numpy())
    y = np.concatenate(labels)
    p = np.clip(np.concatenate(scores), 1e-7, 1 - 1e-7)
    return {
        "auc": roc_auc_score(y, p),
        "logloss": float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))),
        "calibration": float(p.mean() / max(y.mean(), 1e-7)),
        "gauc": grouped_auc(np.concatenate(users), y, p),
    }
