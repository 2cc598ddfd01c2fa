"""Sliding-window inference for 3D abdominal CT, averaging the five cross-validation folds.

Gaussian importance weighting of overlapping patches, optional mirroring TTA.
Writes one NIfTI label map per input case.
"""
import argparse
import glob
import os

import nibabel as nib
import numpy as np
import torch
import torch.nn.functional as F
from scipy.ndimage import gaussian_filter

from nets.unet3d import PlainConvUNet3D


def gaussian_importance(patch, sigma_scale=1.0 / 8):
    tmp = np.zeros(patch, dtype=np.float32)
    tmp[tuple(p // 2 for p in patch)] = 1.0
    g = gaussian_filter(tmp, [p * sigma_scale for p in patch], mode="constant", cval=0)
    g = g / g.max()
    g[g == 0] = g[g > 0].min()
    return torch.from_numpy(g)


def window_starts(size, patch, step):
    if size <= patch:
        return [0]
    n = int(np.ceil((size - patch) / (patch * step))) + 1
    return [int(round(i * (size - patch) / (n - 1))) for i in range(n)]


def predict_volume(nets, vol, patch, n_cls, step=0.5, mirror=True, device="cuda"):
    """vol: (1, D, H, W) tensor already normalized. Returns softmax (C, D, H, W)."""
    pad = [max(0, p - s) for p, s in zip(patch, vol.shape[1:])]
    vol = F.pad(vol, [0, pad[2], 0, pad[1], 0, pad[0]])
    d, h, w = vol.shape[1:]
    acc = torch.zeros((n_cls, d, h, w), device=device, dtype=torch.float16)
    norm = torch.zeros((d, h, w), device=device, dtype=torch.float16)
    gauss = gaussian_importance(patch).to(device).half()
    for z in window_starts(d, patch[0], step):
        for y in window_starts(h, patch[1], step):
            for x in window_starts(w, patch[2], step):
                sl = (slice(z, z + patch[0]), slice(y, y + patch[1]), slice(x, x + patch[2]))
                tile = vol[(slice(None),) + sl][None].to(device)
                prob = 0
                n_pred = 0
                for net in nets:
                    flips = [(), (2,), (3,), (4,)] if mirror else [()]
                    for ax in flips:
                        t = torch.flip(tile, ax) if ax else tile
                        out = torch.softmax(net(t), 1)
                        prob = prob + (torch.flip(out, ax) if ax else out)
                        n_pred += 1
                acc[(slice(None),) + sl] += (prob[0] / n_pred).half() * gauss
                norm[sl] += gauss
    acc /= norm
    return acc[:, : d - pad[0], : h - pad[1], : w - pad[2]].float()


def load_folds(model_dir, n_cls, device):
    nets = []
    for ckpt in sorted(glob.glob(os.path.join(model_dir, "fold_*", "checkpoint_final.pth"))):
        net = PlainConvUNet3D(in_channels=1, num_classes=n_cls, deep_supervision=False)
        net.load_state_dict(torch.load(ckpt, map_location="cpu")["network_weights"])
        net.to(device).eval()
        nets.append(net)
    if not nets:
        raise FileNotFoundError(f"no fold checkpoints under {model_dir}")
    return nets


def ct_normalize(arr, lo=-958.0, hi=327.0, mean=82.9, std=136.9):
    return (np.clip(arr, lo, hi) - mean) / std


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-i", "--input", required=True)
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("-m", "--model-dir", required=True)
    ap.add_argument("--classes", type=int, default=14)
    ap.add_argument("--patch", type=int, nargs=3, default=[96, 160, 160])
    ap.add_argument("--no-mirror", action="store_true")
    args = ap.parse_args()
    os.makedirs(args.output, exist_ok=True)

    device = "cuda"
    nets = load_folds(args.model_dir, args.classes, device)
    cases = sorted(glob.glob(os.path.join(args.input, "*_0000.nii.gz")))
    with torch.inference_mode():
        for path in cases:
            img = nib.load(path)
            arr = ct_normalize(img.get_fdata().transpose(2, 1, 0).astype(np.float32))
            vol = torch.from_numpy(arr)[None]
            probs = predict_volume(nets, vol, tuple(args.patch), args.classes,
                                   mirror=not args.no_mirror, device=device)
            seg = probs.argmax(0).cpu().numpy().astype(np.uint8).transpose(2, 1, 0)
            name = os.path.basename(path).replace("_0000.nii.gz", ".nii.gz")
            nib.save(nib.Nifti1Image(seg, img.affine, img.header), os.path.join(args.output, name))
            print("wrote", name, np.bincount(seg.ravel(), minlength=args.classes)[1:])


if __name__ == "__main__":
    main()
