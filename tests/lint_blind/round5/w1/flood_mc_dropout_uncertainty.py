"""Monte-Carlo dropout uncertainty maps for Sentinel-1 flood segmentation (Sen1Floods11).

Dropout layers are deliberately switched back on after model.eval() so that T stochastic
forward passes sample the approximate posterior; BatchNorm stays in inference mode.
Outputs per-chip mean water probability, predictive entropy and mutual information.
"""
import argparse
import os

import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import DataLoader

from floodnet import build_floodnet
from sen1floods11 import Sen1Floods11

DROPOUT_TYPES = (nn.Dropout, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout)


def enable_mc_dropout(model: nn.Module) -> int:
    """Put only the dropout layers back in training mode. Returns how many were enabled."""
    n = 0
    for m in model.modules():
        if isinstance(m, DROPOUT_TYPES):
            m.train()
            n += 1
    return n


def entropy(p, eps=1e-8):
    return -(p * torch.log(p + eps) + (1 - p) * torch.log(1 - p + eps))


@torch.no_grad()
def mc_predict(model, x, T=20):
    samples = torch.stack([torch.sigmoid(model(x)) for _ in range(T)])  # (T, B, 1, H, W)
    mean = samples.mean(0)
    pred_entropy = entropy(mean)
    expected_entropy = entropy(samples).mean(0)
    return mean, pred_entropy, pred_entropy - expected_entropy


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--T", type=int, default=20)
    ap.add_argument("--out", default="mc_out")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    device = torch.device("cuda")

    model = build_floodnet("unet_r34", in_channels=2, dropout=0.3)
    model.load_state_dict(torch.load(args.ckpt, map_location="cpu"))
    model.to(device)
    model.eval()
    n_drop = enable_mc_dropout(model)
    assert n_drop > 0, "MC dropout needs at least one dropout layer"
    print(f"MC dropout with {n_drop} dropout layers, T={args.T}")

    loader = DataLoader(Sen1Floods11(args.root, split="test"), batch_size=8, num_workers=4)
    ious, unc_err_corr = [], []
    for vv_vh, mask, names in loader:
        x = vv_vh.to(device)
        mean, h, mi = mc_predict(model, x, args.T)
        pred = (mean > 0.5).float().cpu()
        valid = mask != 255
        tgt = (mask == 1).float()
        inter = ((pred == 1) & (tgt == 1) & valid).sum().item()
        union = (((pred == 1) | (tgt == 1)) & valid).sum().item()
        ious.append(inter / max(union, 1))
        err = ((pred != tgt) & valid).float().flatten().numpy()
        unc = h.cpu().flatten().numpy()
        if err.std() > 0:
            unc_err_corr.append(np.corrcoef(err, unc)[0, 1])
        for i, name in enumerate(names):
            np.savez_compressed(os.path.join(args.out, f"{name}.npz"),
                                prob=mean[i, 0].cpu().numpy().astype(np.float16),
                                entropy=h[i, 0].cpu().numpy().astype(np.float16),
                                mutual_info=mi[i, 0].cpu().numpy().astype(np.float16))
    print(f"mean IoU {np.mean(ious):.4f}; corr(error, entropy) {np.nanmean(unc_err_corr):.3f}")


if __name__ == "__main__":
    main()
