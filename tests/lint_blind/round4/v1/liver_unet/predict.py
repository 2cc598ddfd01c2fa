"""Segment whole CT volumes slice by slice with flip test-time augmentation."""
import argparse
import glob
import os

import nibabel as nib
import numpy as np
import torch
import yaml

from model import build_unet

HU_WINDOW = (-200, 250)


def window_ct(vol):
    lo, hi = HU_WINDOW
    vol = np.clip(vol, lo, hi)
    return ((vol - lo) / (hi - lo)).astype(np.float32)


def segment_volume(net, vol, device, bs=24):
    """vol: (H, W, S) -> label map of the same shape"""
    slices = torch.from_numpy(np.ascontiguousarray(vol.transpose(2, 0, 1)))[:, None]
    labels = []
    with torch.no_grad():
        for i in range(0, slices.shape[0], bs):
            x = slices[i:i + bs].to(device)
            prob = net(x).softmax(1)  # expect: MG102
            prob += net(x.flip(-1)).softmax(1).flip(-1)
            prob += net(x.flip(-2)).softmax(1).flip(-2)
            labels.append(prob.argmax(1).byte().cpu())
    return torch.cat(labels).numpy().transpose(1, 2, 0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default="configs/unet_lits.yaml")
    ap.add_argument("--ckpt", default="work/lits_unet/best.pth")
    ap.add_argument("--inputs", default="data/test/*.nii.gz")
    ap.add_argument("--out", default="predictions")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    with open(args.config) as f:
        cfg = yaml.safe_load(f)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    net = build_unet(cfg["model"])
    net.load_state_dict(torch.load(args.ckpt, map_location="cpu")["model"])
    net.to(device)

    for path in sorted(glob.glob(args.inputs)):
        img = nib.load(path)
        seg = segment_volume(net, window_ct(img.get_fdata()), device)
        name = os.path.basename(path).replace("volume", "segmentation")
        nib.save(nib.Nifti1Image(seg.astype(np.uint8), img.affine, img.header),
                 os.path.join(args.out, name))
        print(path, "liver voxels:", int((seg == 1).sum()), "lesion voxels:", int((seg == 2).sum()))


if __name__ == "__main__":
    main()
