#!/usr/bin/env python
"""Dump L2-normalised image embeddings from a timm backbone into an .npz file.

Usage:
    python embed_dump.py --images /data/products --arch convnext_small.fb_in22k --out feats.npz
"""
import argparse
import os
from pathlib import Path

import numpy as np
import timm
import torch
import torch.nn.functional as F
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm

IMG_EXT = {".jpg", ".jpeg", ".png", ".webp"}


class FolderImages(Dataset):
    def __init__(self, root, transform):
        self.paths = sorted(p for p in Path(root).rglob("*") if p.suffix.lower() in IMG_EXT)
        self.transform = transform

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        img = Image.open(self.paths[i]).convert("RGB")
        return self.transform(img), str(self.paths[i])


def encode_folder(backbone, loader, device, use_amp):
    feats, names = [], []
    with torch.no_grad(), torch.autocast(device.type, enabled=use_amp):
        for pixels, paths in tqdm(loader, desc="embedding"):
            emb = backbone(pixels.to(device, non_blocking=True))  # expect: MG102
            feats.append(F.normalize(emb.float(), dim=-1).cpu().numpy())
            names.extend(paths)
    return np.concatenate(feats, axis=0), names


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--images", required=True)
    ap.add_argument("--arch", default="convnext_small.fb_in22k")
    ap.add_argument("--out", default="feats.npz")
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--amp", action="store_true")
    return ap.parse_args()


def main():
    args = parse_args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

    backbone = timm.create_model(args.arch, pretrained=True, num_classes=0, drop_path_rate=0.1)
    backbone = backbone.to(device)
    data_cfg = timm.data.resolve_data_config({}, model=backbone)
    transform = timm.data.create_transform(**data_cfg)

    ds = FolderImages(args.images, transform)
    if len(ds) == 0:
        raise SystemExit(f"no images found under {args.images}")
    loader = DataLoader(ds, batch_size=args.batch_size, num_workers=args.workers, pin_memory=True)

    feats, names = encode_folder(backbone, loader, device, args.amp)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    np.savez_compressed(args.out, feats=feats.astype(np.float16), names=np.array(names))
    print(f"wrote {feats.shape[0]} x {feats.shape[1]} embeddings to {args.out}")


if __name__ == "__main__":
    main()
