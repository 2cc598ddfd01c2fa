"""Monte-Carlo dropout uncertainty for a trained retinopathy grader.

BatchNorm stays in inference mode (running statistics), only the dropout layers are
switched back on, and we average T stochastic forward passes.
"""
import argparse

import numpy as np
import pandas as pd
import torch
import torch.nn as nn
from torch.utils.data import DataLoader

from grader import build_grader
from fundus import FundusDataset


def enable_mc_dropout(net):
    net.eval()
    n = 0
    for m in net.modules():
        if isinstance(m, (nn.Dropout, nn.Dropout2d)):
            m.train()
            n += 1
    return n


@torch.no_grad()
def mc_predict(net, loader, passes, device):
    all_mean, all_entropy, all_mi, ids = [], [], [], []
    for img_ids, x in loader:
        x = x.to(device)
        probs = torch.stack([net(x).softmax(1) for _ in range(passes)])  # T x B x C
        mean = probs.mean(0)
        entropy = -(mean * mean.clamp_min(1e-12).log()).sum(1)
        expected_entropy = -(probs * probs.clamp_min(1e-12).log()).sum(2).mean(0)
        all_mean.append(mean.cpu())
        all_entropy.append(entropy.cpu())
        all_mi.append((entropy - expected_entropy).cpu())
        ids.extend(img_ids)
    return ids, torch.cat(all_mean), torch.cat(all_entropy), torch.cat(all_mi)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--csv", required=True)
    ap.add_argument("--images", required=True)
    ap.add_argument("--passes", type=int, default=30)
    ap.add_argument("--refer-fraction", type=float, default=0.2,
                    help="fraction of most uncertain cases sent to a human grader")
    args = ap.parse_args()

    device = "cuda" if torch.cuda.is_available() else "cpu"
    net = build_grader(num_classes=5, dropout=0.3)
    net.load_state_dict(torch.load(args.ckpt, map_location="cpu"))
    net.to(device)
    n_drop = enable_mc_dropout(net)
    print(f"{n_drop} dropout layers active for MC sampling")

    loader = DataLoader(FundusDataset(args.csv, args.images, with_ids=True), batch_size=32, num_workers=6)
    ids, mean, entropy, mi = mc_predict(net, loader, args.passes, device)

    df = pd.DataFrame({"id": ids, "grade": mean.argmax(1).numpy(), "confidence": mean.max(1).values.numpy(),
                       "entropy": entropy.numpy(), "mutual_info": mi.numpy()})
    cutoff = np.quantile(df.mutual_info, 1 - args.refer_fraction)
    df["refer"] = df.mutual_info >= cutoff
    df.to_csv("mc_dropout_predictions.csv", index=False)
    print(df.describe())
    print(f"{df.refer.sum()} of {len(df)} cases referred (MI >= {cutoff:.4f})")


if __name__ == "__main__":
    main()
