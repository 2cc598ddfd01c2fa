"""Evaluation metrics and reporting helpers used by the notebooks and scripts."""
from typing import Dict, Iterable, Tuple

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F


@torch.no_grad()
def collect_logits(net: torch.nn.Module, batches: Iterable, device="cpu") -> Tuple[torch.Tensor, torch.Tensor]:
    """Run `net` over `batches` in inference mode and give back (logits, labels).

    The network's previous mode is put back afterwards, so this is safe to call
    in the middle of a training loop.
    """
    restore = net.training
    net.eval()
    outs, labels = [], []
    try:
        for x, y in batches:
            outs.append(net(x.to(device)).float().cpu())
            labels.append(y)
    finally:
        net.train(restore)
    return torch.cat(outs), torch.cat(labels)


def topk_accuracy(logits: torch.Tensor, labels: torch.Tensor, ks=(1, 5)) -> Dict[str, float]:
    maxk = min(max(ks), logits.size(1))
    pred = logits.topk(maxk, dim=1).indices
    hit = pred.eq(labels[:, None])
    return {f"top{k}": hit[:, :k].any(1).float().mean().item() * 100 for k in ks if k <= maxk}


def expected_calibration_error(probs: torch.Tensor, labels: torch.Tensor, n_bins: int = 15) -> float:
    conf, pred = probs.max(1)
    correct = pred.eq(labels).float()
    edges = torch.linspace(0, 1, n_bins + 1)
    ece = torch.zeros(())
    for lo, hi in zip(edges[:-1], edges[1:]):
        in_bin = (conf > lo) & (conf <= hi)
        if in_bin.any():
            gap = (conf[in_bin].mean() - correct[in_bin].mean()).abs()
            ece += gap * in_bin.float().mean()
    return ece.item()


def confusion(labels: np.ndarray, preds: np.ndarray, n_cls: int) -> np.ndarray:
    mat = np.zeros((n_cls, n_cls), dtype=np.int64)
    np.add.at(mat, (labels, preds), 1)
    return mat


def per_class_table(logits: torch.Tensor, labels: torch.Tensor, class_names) -> pd.DataFrame:
    probs = F.softmax(logits, dim=1)
    top2 = probs.topk(2, dim=1).values
    df = pd.DataFrame({
        "label": labels.numpy(),
        "pred": probs.argmax(1).numpy(),
        "p1": top2[:, 0].numpy(),
        "p2": top2[:, 1].numpy(),
    })
    df = df.eval("correct = label == pred")
    df.eval("margin = p1 - p2", inplace=True)
    table = df.groupby("label").agg(n=("pred", "size"), acc=("correct", "mean"),
                                    margin=("margin", "median"))
    table.index = [class_names[i] for i in table.index]
    return table.sort_values("acc")


def bootstrap_ci(values: np.ndarray, n_boot: int = 2000, alpha: float = 0.05, seed: int = 0):
    rng = np.random.default_rng(seed)
    means = np.array([rng.choice(values, size=len(values)).mean() for _ in range(n_boot)])
    return float(np.quantile(means, alpha / 2)), float(np.quantile(means, 1 - alpha / 2))


def report(net, loader, class_names, device="cuda") -> Dict[str, float]:
    logits, labels = collect_logits(net, loader, device)
    probs = F.softmax(logits, dim=1)
    out = topk_accuracy(logits, labels)
    out["ece"] = expected_calibration_error(probs, labels)
    lo, hi = bootstrap_ci(probs.argmax(1).eq(labels).float().numpy())
    out["top1_ci"] = (100 * lo, 100 * hi)
    worst = per_class_table(logits, labels, class_names).head(10)
    print(worst.to_string(float_format="%.3f"))
    return out
