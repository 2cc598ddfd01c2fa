"""Patch-based (sliding window) inference for 3D volumes.

`sliding_window_predict` is deliberately mode-agnostic: it is used by the
validation code in engine.py and by the standalone `predict_folder` entry
point below, both of which put the network into eval/no-grad first.
"""
import argparse
import itertools
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from model import build_unet
from io_utils import load_nifti, save_nifti, load_config


def gaussian_importance(patch, sigma_scale=0.125, device="cpu"):
    coords = [torch.arange(p, dtype=torch.float32, device=device) - (p - 1) / 2 for p in patch]
    grids = torch.meshgrid(*coords, indexing="ij")
    sq = sum((g / (s * sigma_scale)) ** 2 for g, s in zip(grids, patch))
    w = torch.exp(-0.5 * sq)
    w = w / w.max()
    return w.clamp_min(1e-3)


def _starts(size, patch, step):
    if size <= patch:
        return [0]
    n = int(np.ceil((size - patch) / (patch * step))) + 1
    return [int(round(i * (size - patch) / (n - 1))) for i in range(n)]


def sliding_window_predict(net, volume, patch=(128, 128, 128), step=0.5, num_classes=14, mirror_axes=()):
    """volume: (C, D, H, W) tensor already on the right device. Returns softmax probs."""
    _, D, H, W = volume.shape
    pad = [max(0, p - s) for p, s in zip(patch, (D, H, W))]
    vol = F.pad(volume, (0, pad[2], 0, pad[1], 0, pad[0]))
    _, Dp, Hp, Wp = vol.shape
    acc = torch.zeros((num_classes, Dp, Hp, Wp), device=vol.device)
    norm = torch.zeros((1, Dp, Hp, Wp), device=vol.device)
    wmap = gaussian_importance(patch, device=vol.device)

    for z, y, x in itertools.product(_starts(Dp, patch[0], step), _starts(Hp, patch[1], step), _starts(Wp, patch[2], step)):
        crop = vol[None, :, z:z + patch[0], y:y + patch[1], x:x + patch[2]]
        logits = net(crop)
        n_views = 1
        for ax in mirror_axes:
            flipped = net(torch.flip(crop, dims=(ax + 2,)))
            logits = logits + torch.flip(flipped, dims=(ax + 2,))
            n_views += 1
        probs = torch.softmax(logits / n_views, dim=1)[0]
        acc[:, z:z + patch[0], y:y + patch[1], x:x + patch[2]] += probs * wmap
        norm[:, z:z + patch[0], y:y + patch[1], x:x + patch[2]] += wmap
    out = acc / norm
    return out[:, :D, :H, :W]


def predict_folder(args):
    cfg = load_config(args.config)
    device = torch.device(args.device)
    net = build_unet(cfg).to(device)
    state = torch.load(args.checkpoint, map_location="cpu")
    net.load_state_dict(state["model"] if "model" in state else state)
    net.eval()

    out_dir = Path(args.output)
    out_dir.mkdir(parents=True, exist_ok=True)
    for path in sorted(Path(args.input).glob("*.nii.gz")):
        img, affine = load_nifti(path)
        img = (img - cfg.intensity_mean) / cfg.intensity_std
        vol = torch.from_numpy(img[None].astype(np.float32)).to(device)
        with torch.inference_mode():
            probs = sliding_window_predict(
                net, vol, tuple(cfg.patch_size), step=args.step,
                num_classes=cfg.num_classes, mirror_axes=(0, 1, 2) if args.tta else (),
            )
        seg = probs.argmax(0).cpu().numpy().astype(np.uint8)
        save_nifti(seg, affine, out_dir / path.name)
        print(f"{path.name}: done, {int((seg > 0).sum())} foreground voxels")


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--config", required=True)
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--input", required=True)
    p.add_argument("--output", required=True)
    p.add_argument("--step", type=float, default=0.5)
    p.add_argument("--tta", action="store_true")
    p.add_argument("--device", default="cuda")
    predict_folder(p.parse_args())
