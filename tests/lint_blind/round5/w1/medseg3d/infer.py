"""Segment new CT volumes with a trained checkpoint (optionally several, averaged)."""
import argparse
import glob
import os

import nibabel as nib
import numpy as np
import torch
import yaml

from evaluate import sliding_window_predict
from model import build_model


def load_nets(cfg, ckpts, device):
    nets = []
    for path in ckpts:
        net = build_model(cfg)
        net.load_state_dict(torch.load(path, map_location="cpu")["model"])
        nets.append(net.to(device).eval())
    return nets


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True)
    ap.add_argument("--ckpt", nargs="+", required=True)
    ap.add_argument("--images", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    with open(args.config) as fh:
        cfg = yaml.safe_load(fh)
    device = torch.device("cuda")
    nets = load_nets(cfg, args.ckpt, device)
    os.makedirs(args.out, exist_ok=True)

    lo, hi = cfg.get("hu_window", (-175, 250))
    for path in sorted(glob.glob(os.path.join(args.images, "*.nii.gz"))):
        img = nib.load(path)
        arr = np.clip(img.get_fdata(dtype=np.float32), lo, hi)
        arr = (arr - lo) / (hi - lo)
        vol = torch.from_numpy(arr.transpose(2, 0, 1).copy())[None, None].to(device)
        with torch.inference_mode():
            prob = sum(torch.softmax(sliding_window_predict(n, vol, cfg["roi"], cfg["num_classes"]), 1)
                       for n in nets) / len(nets)
        seg = prob.argmax(1)[0].cpu().numpy().transpose(1, 2, 0).astype(np.uint8)
        nib.save(nib.Nifti1Image(seg, img.affine), os.path.join(args.out, os.path.basename(path)))
        print(os.path.basename(path), np.unique(seg))


if __name__ == "__main__":
    main()
