"""Predictive uncertainty with Monte-Carlo dropout (Gal & Ghahramani, 2016).

BatchNorm layers stay in inference mode; only the dropout layers are switched
back on, so every stochastic forward pass samples a different sub-network.
"""
import argparse

import numpy as np
import pandas as pd
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.metrics import roc_auc_score

from lesion.data import make_test_loader
from lesion.models import build_classifier

DROPOUT_TYPES = (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout)


def switch_on_dropout(net: nn.Module) -> int:
    net.eval()
    n = 0
    for module in net.modules():
        if isinstance(module, DROPOUT_TYPES):
            module.train()
            n += 1
    if n == 0:
        raise ValueError("the network has no dropout layers: MC sampling would be deterministic")
    return n


def entropy(p: torch.Tensor) -> torch.Tensor:
    return -(p * p.clamp_min(1e-12).log()).sum(-1)


@torch.no_grad()
def mc_predict(net, x, passes):
    probs = torch.stack([F.softmax(net(x), dim=-1) for _ in range(passes)])
    mean = probs.mean(0)
    total = entropy(mean)
    aleatoric = entropy(probs).mean(0)
    return mean, total, total - aleatoric


@torch.no_grad()
def deterministic_predict(net, loader, device):
    net.eval()
    out = []
    for x, _ in loader:
        out.append(F.softmax(net(x.to(device)), dim=-1).cpu())
    return torch.cat(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--split", default="test")
    ap.add_argument("--passes", type=int, default=30)
    ap.add_argument("--out", default="uncertainty.csv")
    args = ap.parse_args()

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    net = build_classifier("efficientnet_b0", num_classes=7, drop_rate=0.3)
    net.load_state_dict(torch.load(args.ckpt, map_location="cpu")["state_dict"])
    net.to(device)
    loader = make_test_loader(args.split, batch_size=64)

    point_probs = deterministic_predict(net, loader, device)

    n_drop = switch_on_dropout(net)
    print(f"MC dropout over {n_drop} dropout layers, {args.passes} passes")
    means, totals, epistemic, labels = [], [], [], []
    for x, y in loader:
        m, t, e = mc_predict(net, x.to(device), args.passes)
        means.append(m.cpu())
        totals.append(t.cpu())
        epistemic.append(e.cpu())
        labels.append(y)
    mean = torch.cat(means)
    labels = torch.cat(labels).numpy()

    df = pd.DataFrame({
        "label": labels,
        "pred_point": point_probs.argmax(1).numpy(),
        "pred_mc": mean.argmax(1).numpy(),
        "entropy": torch.cat(totals).numpy(),
        "mutual_info": torch.cat(epistemic).numpy(),
    })
    wrong = (df["pred_mc"] != df["label"]).astype(int)
    print(f"point acc {np.mean(df.pred_point == df.label):.4f}  mc acc {1 - wrong.mean():.4f}")
    print(f"AUROC(error | entropy)     {roc_auc_score(wrong, df.entropy):.4f}")
    print(f"AUROC(error | mutual info) {roc_auc_score(wrong, df.mutual_info):.4f}")
    df.to_csv(args.out, index=False)


if __name__ == "__main__":
    main()
