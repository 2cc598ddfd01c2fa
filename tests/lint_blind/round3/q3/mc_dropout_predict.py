#!/usr/bin/env python
"""Predict with Monte-Carlo dropout and write per-sample uncertainty to a CSV.

python mc_dropout_predict.py --ckpt runs/seg/best.pt --images test/*.png --samples 20
"""
import argparse
import ast
import glob

import numpy as np
import pandas as pd
import torch
import torch.nn as nn
from PIL import Image

from lesionseg.model import AttentionUNet  # BatchNorm2d + Dropout2d in the decoder


def enable_mc_dropout(net):
    """BN stays in inference mode; only the dropout layers sample masks."""
    net.eval()
    n = 0
    for m in net.modules():
        if isinstance(m, (nn.Dropout, nn.Dropout2d)):
            m.train()
            n += 1
    if n == 0:
        raise RuntimeError("model has no dropout layers; MC dropout would be deterministic")
    return n


def load(path, device):
    ck = torch.load(path, map_location="cpu")
    net = AttentionUNet(**ck["hparams"])
    net.load_state_dict(ck["state_dict"])
    return net.to(device)


def to_tensor(path, size):
    im = Image.open(path).convert("RGB").resize((size, size))
    x = torch.from_numpy(np.asarray(im, dtype=np.float32) / 255.0).permute(2, 0, 1)
    return ((x - 0.5) / 0.25).unsqueeze(0)


@torch.inference_mode()
def mc_predict(net, x, samples):
    probs = torch.stack([net(x).sigmoid() for _ in range(samples)])
    mean = probs.mean(0)
    entropy = -(mean * mean.clamp_min(1e-6).log() + (1 - mean) * (1 - mean).clamp_min(1e-6).log())
    return mean, probs.var(0), entropy


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--images", nargs="+", required=True)
    ap.add_argument("--samples", type=int, default=20)
    ap.add_argument("--size", type=int, default=384)
    ap.add_argument("--thresholds", default="[0.3, 0.5, 0.7]")
    ap.add_argument("--out", default="mc_uncertainty.csv")
    args = ap.parse_args()

    device = "cuda" if torch.cuda.is_available() else "cpu"
    net = load(args.ckpt, device)
    k = enable_mc_dropout(net)
    print(f"MC dropout over {k} dropout layers, {args.samples} samples")
    thresholds = ast.literal_eval(args.thresholds)

    rows = []
    files = [f for pattern in args.images for f in glob.glob(pattern)]
    for f in sorted(files):
        mean, var, ent = mc_predict(net, to_tensor(f, args.size).to(device), args.samples)
        row = {"file": f, "mean_var": var.mean().item(), "mean_entropy": ent.mean().item()}
        for t in thresholds:
            row[f"area@{t}"] = (mean > t).float().mean().item()
        rows.append(row)

    df = pd.DataFrame(rows)
    df = df.eval("uncertain = mean_entropy > 0.25")
    df.to_csv(args.out, index=False)
    print(df.describe())


if __name__ == "__main__":
    main()
