"""Monte-Carlo dropout uncertainty for a trained prostate MRI segmenter.

BatchNorm uses its running statistics (eval mode) while the dropout layers are
deliberately switched back on so that T stochastic passes sample the predictive
distribution. Writes mean prediction, predictive entropy and mutual information.
"""
import argparse
import os

import nibabel as nib
import numpy as np
import torch
import torch.nn as nn

from prostate.model import AttentionUNet
from prostate.io import load_case_list, load_volume, normalize_mr

DROPOUT_TYPES = (nn.Dropout, nn.Dropout2d, nn.Dropout3d)


def activate_mc_dropout(net):
    n = 0
    for m in net.modules():
        if isinstance(m, DROPOUT_TYPES):
            m.train()
            n += 1
    if n == 0:
        raise RuntimeError("model has no dropout layers; MC sampling would be deterministic")
    return n


@torch.no_grad()
def sample_volume(net, vol, passes, device, bs=16):
    """vol: (S, H, W) float array -> (passes, S, C, H, W) softmax samples"""
    slices = torch.from_numpy(vol).float().unsqueeze(1)
    samples = []
    for _ in range(passes):
        out = []
        for i in range(0, len(slices), bs):
            out.append(net(slices[i:i + bs].to(device)).softmax(1).cpu())
        samples.append(torch.cat(out))
    return torch.stack(samples)


def uncertainty(samples, eps=1e-8):
    mean = samples.mean(0)
    entropy = -(mean * (mean + eps).log()).sum(1)
    exp_entropy = -(samples * (samples + eps).log()).sum(2).mean(0)
    return mean, entropy, entropy - exp_entropy


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--cases", default="splits/test.txt")
    ap.add_argument("--passes", type=int, default=20)
    ap.add_argument("--out", default="mc_out")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

    net = AttentionUNet(in_ch=1, n_classes=3, dropout=0.2)
    net.load_state_dict(torch.load(args.ckpt, map_location="cpu")["model"])
    net.to(device).eval()
    n_drop = activate_mc_dropout(net)
    print(f"{n_drop} dropout layers active for {args.passes} MC passes")

    for case in load_case_list(args.cases):
        img, affine = load_volume(case)
        samples = sample_volume(net, normalize_mr(img), args.passes, device)
        mean, ent, mi = uncertainty(samples)
        seg = mean.argmax(1).numpy().astype(np.uint8)
        base = os.path.join(args.out, os.path.basename(case).replace(".nii.gz", ""))
        nib.save(nib.Nifti1Image(seg.transpose(1, 2, 0), affine), base + "_seg.nii.gz")
        nib.save(nib.Nifti1Image(ent.numpy().transpose(1, 2, 0), affine), base + "_entropy.nii.gz")
        nib.save(nib.Nifti1Image(mi.numpy().transpose(1, 2, 0), affine), base + "_mi.nii.gz")
        print(case, "mean entropy %.4f" % float(ent.mean()))


if __name__ == "__main__":
    main()
