"""Monte-Carlo dropout uncertainty for a trained retinopathy grader.

BatchNorm uses its running statistics (eval mode); only the dropout layers
are switched back on, on purpose, so that T stochastic passes sample the
approximate posterior (Gal & Ghahramani, 2016).
"""
import argparse

import numpy as np
import pandas as pd
import torch
import torch.nn as nn
from torch.utils.data import DataLoader

from retina.data import FundusDataset, eval_transforms
from retina.models import build_grader


def activate_dropout_only(net: nn.Module) -> int:
    net.eval()
    n = 0
    for m in net.modules():
        if isinstance(m, (nn.Dropout, nn.Dropout2d, nn.AlphaDropout)):
            m.train()
            n += 1
    if n == 0:
        raise RuntimeError("model has no dropout layers; MC dropout would return identical samples")
    return n


@torch.no_grad()
def mc_predict(net, loader, device, passes=30):
    activate_dropout_only(net)
    means, entropies, mutual_info, ids = [], [], [], []
    for images, image_ids in loader:
        images = images.to(device)
        samples = torch.stack([net(images).softmax(dim=1) for _ in range(passes)])  # (T, B, C)
        mean = samples.mean(0)
        pred_entropy = -(mean * mean.clamp_min(1e-12).log()).sum(1)
        exp_entropy = -(samples * samples.clamp_min(1e-12).log()).sum(2).mean(0)
        means.append(mean.cpu())
        entropies.append(pred_entropy.cpu())
        mutual_info.append((pred_entropy - exp_entropy).cpu())
        ids.extend(image_ids)
    return ids, torch.cat(means).numpy(), torch.cat(entropies).numpy(), torch.cat(mutual_info).numpy()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--csv", required=True)
    ap.add_argument("--img-dir", required=True)
    ap.add_argument("--passes", type=int, default=30)
    ap.add_argument("--refer-frac", type=float, default=0.1, help="fraction of most uncertain cases referred")
    args = ap.parse_args()

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    net = build_grader("efficientnet_b3", num_classes=5, drop_rate=0.3)
    net.load_state_dict(torch.load(args.ckpt, map_location="cpu")["model"])
    net.to(device)

    ds = FundusDataset(args.csv, args.img_dir, transform=eval_transforms(512), return_id=True)
    loader = DataLoader(ds, batch_size=16, num_workers=6)
    ids, probs, ent, mi = mc_predict(net, loader, device, passes=args.passes)

    df = pd.DataFrame({"id": ids, "grade": probs.argmax(1), "confidence": probs.max(1),
                       "pred_entropy": ent, "mutual_info": mi})
    cutoff = np.quantile(df["mutual_info"], 1.0 - args.refer_frac)
    df["refer"] = df["mutual_info"] >= cutoff
    df.to_csv("mc_dropout_predictions.csv", index=False)
    print(df.describe())
    print(f"referred {df['refer'].sum()} / {len(df)} images (MI >= {cutoff:.4f})")


if __name__ == "__main__":
    main()
