"""Run a trained road-segmentation checkpoint over a folder of aerial tiles.

    python segment_folder.py --cfg configs/deeplabv3p_r50.yaml \
        --weights work_dirs/r50/best.pth --src tiles/ --dst masks/
"""
import argparse
import glob
import os

import numpy as np
import torch
import torch.nn.functional as F
import yaml
from PIL import Image

from roadseg.models import build_segmentor
from roadseg.palette import colorize

IMG_MEAN = np.array([123.675, 116.28, 103.53], dtype=np.float32)
IMG_STD = np.array([58.395, 57.12, 57.375], dtype=np.float32)


def load_tile(path):
    img = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32)
    img = (img - IMG_MEAN) / IMG_STD
    return torch.from_numpy(img.transpose(2, 0, 1)).unsqueeze(0)


def sliding_logits(segmentor, tile, n_classes, crop=512, stride=384):
    _, _, h, w = tile.shape
    logits = tile.new_zeros((1, n_classes, h, w))
    hits = tile.new_zeros((1, 1, h, w))
    ys = list(range(0, max(h - crop, 0) + 1, stride))
    xs = list(range(0, max(w - crop, 0) + 1, stride))
    if ys[-1] + crop < h:
        ys.append(h - crop)
    if xs[-1] + crop < w:
        xs.append(w - crop)
    for y in ys:
        for x in xs:
            patch = tile[:, :, y:y + crop, x:x + crop]
            out = segmentor(patch)  # expect: MG102
            out = F.interpolate(out, size=patch.shape[-2:], mode="bilinear", align_corners=False)
            logits[:, :, y:y + crop, x:x + crop] += out
            hits[:, :, y:y + crop, x:x + crop] += 1
    return logits / hits


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--cfg", required=True)
    p.add_argument("--weights", required=True)
    p.add_argument("--src", required=True)
    p.add_argument("--dst", required=True)
    p.add_argument("--color", action="store_true", help="write RGB masks instead of label ids")
    return p.parse_args()


def main():
    args = parse_args()
    with open(args.cfg) as f:
        cfg = yaml.safe_load(f)
    device = "cuda" if torch.cuda.is_available() else "cpu"

    segmentor = build_segmentor(cfg["model"])
    state = torch.load(args.weights, map_location="cpu")
    state = state.get("state_dict", state)
    state = {k.replace("module.", "", 1): v for k, v in state.items()}
    missing, unexpected = segmentor.load_state_dict(state, strict=False)
    if missing:
        print("missing keys:", missing)
    segmentor.to(device)

    os.makedirs(args.dst, exist_ok=True)
    paths = sorted(glob.glob(os.path.join(args.src, "*.png")) + glob.glob(os.path.join(args.src, "*.tif")))
    with torch.no_grad():
        for path in paths:
            tile = load_tile(path).to(device)
            logits = sliding_logits(segmentor, tile, cfg["model"]["num_classes"])
            pred = logits.argmax(1)[0].cpu().numpy().astype(np.uint8)
            out = colorize(pred) if args.color else Image.fromarray(pred)
            out.save(os.path.join(args.dst, os.path.splitext(os.path.basename(path))[0] + ".png"))
    print("wrote %d masks to %s" % (len(paths), args.dst))


if __name__ == "__main__":
    main()
