"""Multi-scale + flip test-time augmentation for semantic segmentation.

usage: python infer_tta_seg.py --ckpt runs/upernet_r50/best.pth --images demo/ --out preds/
"""
import argparse
import glob
import os

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from segkit.models import build_segmentor
from segkit.palette import cityscapes_palette

MEAN = torch.tensor([123.675, 116.28, 103.53]).view(1, 3, 1, 1)
STD = torch.tensor([58.395, 57.12, 57.375]).view(1, 3, 1, 1)


def restore(ckpt_path, arch, n_cls, device):
    segmentor = build_segmentor(arch, num_classes=n_cls, aux_head=False)
    state = torch.load(ckpt_path, map_location="cpu")
    state = state.get("model", state)
    missing, unexpected = segmentor.load_state_dict(state, strict=False)
    if missing:
        print("missing keys:", missing[:5], "...")
    return segmentor.to(device)


def to_tensor(path, device):
    arr = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32)
    t = torch.from_numpy(arr).permute(2, 0, 1)[None]
    return ((t - MEAN) / STD).to(device)


@torch.inference_mode()
def predict_tta(segmentor, img, scales=(0.75, 1.0, 1.25, 1.5), flip=True):
    _, _, H, W = img.shape
    acc = None
    for s in scales:
        inp = F.interpolate(img, scale_factor=s, mode="bilinear", align_corners=False)
        logits = segmentor(inp)  # expect: MG102
        if flip:
            logits = logits + segmentor(inp.flip(-1)).flip(-1)
        logits = F.interpolate(logits, size=(H, W), mode="bilinear", align_corners=False)
        prob = logits.softmax(dim=1)
        acc = prob if acc is None else acc + prob
    return acc.argmax(dim=1)[0].cpu().numpy().astype(np.uint8)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--arch", default="upernet_r50")
    ap.add_argument("--num-classes", type=int, default=19)
    ap.add_argument("--images", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--no-flip", action="store_true")
    ap.add_argument("--scales", default="0.75,1.0,1.25,1.5")
    args = ap.parse_args()

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    net = restore(args.ckpt, args.arch, args.num_classes, device)
    scales = tuple(float(s) for s in args.scales.split(","))
    os.makedirs(args.out, exist_ok=True)
    palette = cityscapes_palette()

    files = sorted(glob.glob(os.path.join(args.images, "*.png")) + glob.glob(os.path.join(args.images, "*.jpg")))
    for i, path in enumerate(files):
        pred = predict_tta(net, to_tensor(path, device), scales, flip=not args.no_flip)
        im = Image.fromarray(pred, mode="P")
        im.putpalette(palette)
        im.save(os.path.join(args.out, os.path.splitext(os.path.basename(path))[0] + ".png"))
        if i % 20 == 0:
            print(f"{i}/{len(files)} {path}")


if __name__ == "__main__":
    main()
