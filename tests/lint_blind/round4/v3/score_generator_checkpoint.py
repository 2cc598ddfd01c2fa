#!/usr/bin/env python
"""Score a trained generator checkpoint: FID, KID and precision/recall against a reference set.

usage: python score_generator_checkpoint.py --ckpt runs/exp3/G_ema_200k.pt --ref data/ffhq_feats.npz
"""
import argparse
import json
import sys

import numpy as np
import torch
from scipy import linalg

from gan_zoo import build_generator
from feature_extractors import InceptionV3Pool


def fid_from_feats(a, b):
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean, _ = linalg.sqrtm(s1 @ s2, disp=False)
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(s1 + s2 - 2 * covmean.real))


def kid_from_feats(a, b, subsets=100, size=1000, seed=0):
    rng = np.random.default_rng(seed)
    d = a.shape[1]
    vals = []
    for _ in range(subsets):
        x = a[rng.choice(len(a), size, replace=False)]
        y = b[rng.choice(len(b), size, replace=False)]
        kxx, kyy, kxy = ((x @ x.T) / d + 1) ** 3, ((y @ y.T) / d + 1) ** 3, ((x @ y.T) / d + 1) ** 3
        m = size
        vals.append((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
                    - 2 * kxy.mean())
    return float(np.mean(vals))


def knn_precision_recall(real, fake, k=3):
    def radii(x):
        d = torch.cdist(x, x)
        return d.kthvalue(k + 1, dim=1).values
    real, fake = torch.from_numpy(real), torch.from_numpy(fake)
    r_real, r_fake = radii(real), radii(fake)
    precision = (torch.cdist(fake, real) <= r_real[None]).any(1).float().mean().item()
    recall = (torch.cdist(real, fake) <= r_fake[None]).any(1).float().mean().item()
    return precision, recall


@torch.inference_mode()
def generate_features(G, feat_net, n, batch, z_dim, device, truncation=1.0):
    feats = []
    for start in range(0, n, batch):
        b = min(batch, n - start)
        z = torch.randn(b, z_dim, device=device)
        img = G(z, truncation_psi=truncation)
        img = ((img + 1) * 127.5).clamp(0, 255).to(torch.uint8)
        feats.append(feat_net(img).double().cpu().numpy())
    return np.concatenate(feats)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--ref", required=True)
    ap.add_argument("--num", type=int, default=50_000)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--trunc", type=float, default=1.0)
    ap.add_argument("--json-out")
    args = ap.parse_args(argv)

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    ckpt = torch.load(args.ckpt, map_location="cpu")
    G = build_generator(**ckpt["config"])
    G.load_state_dict(ckpt["state_dict"])
    G.to(device).eval()
    feat_net = InceptionV3Pool().to(device).eval()

    ref = np.load(args.ref)["features"]
    fake = generate_features(G, feat_net, args.num, args.batch, ckpt["config"]["z_dim"], device, args.trunc)
    results = {"fid": fid_from_feats(fake, ref), "kid": kid_from_feats(fake, ref)}
    results["precision"], results["recall"] = knn_precision_recall(ref[:10000], fake[:10000])
    print(json.dumps(results, indent=2))
    if args.json_out:
        with open(args.json_out, "w") as fh:
            json.dump(results, fh)
    return 0


if __name__ == "__main__":
    sys.exit(main())
