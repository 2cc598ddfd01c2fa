"""Separation metrics and the results table used in the paper."""
import numpy as np
import pandas as pd
import torch


def si_sdr(est, ref, eps=1e-8):
    """Scale-invariant SDR in dB, averaged over channels. est/ref: (B, C, T)."""
    est = est - est.mean(-1, keepdim=True)
    ref = ref - ref.mean(-1, keepdim=True)
    alpha = (est * ref).sum(-1, keepdim=True) / (ref.pow(2).sum(-1, keepdim=True) + eps)
    target = alpha * ref
    noise = est - target
    ratio = target.pow(2).sum(-1) / (noise.pow(2).sum(-1) + eps)
    return (10 * torch.log10(ratio + eps)).mean(-1)


def framewise_sdr(est, ref, win=44100, hop=44100):
    """museval-style 1 s frames; returns median over frames (nan-safe)."""
    scores = []
    for start in range(0, ref.shape[-1] - win + 1, hop):
        seg_ref = ref[..., start:start + win]
        if float(seg_ref.abs().sum()) == 0.0:
            continue  # silent reference frames are skipped in the official eval
        seg_est = est[..., start:start + win]
        num = (seg_ref ** 2).sum()
        den = ((seg_ref - seg_est) ** 2).sum() + 1e-10
        scores.append(10 * np.log10(float(num) / float(den) + 1e-10))
    return float(np.median(scores)) if scores else float("nan")


def batch_sdr_table(values):
    arr = np.asarray(values, dtype=np.float64)
    return {"median": float(np.nanmedian(arr)), "mean": float(np.nanmean(arr)),
            "p10": float(np.nanpercentile(arr, 10)), "n": int(arr.size)}


def summarize(csv_path, out_path=None):
    """Aggregate per-track scores written by evaluate_musdb.py."""
    df = pd.read_csv(csv_path)
    df = df.eval("gain = sdr - sdr_mixture")
    df = df.query("target in ['vocals', 'drums', 'bass', 'other']")
    table = (df.groupby(["method", "target"])[["sdr", "gain"]]
               .median()
               .unstack("target"))
    if out_path:
        table.to_latex(out_path, float_format="%.2f")
    return table
