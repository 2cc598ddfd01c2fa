"""Embed whole-slide-image tiles with an ImageNet backbone for downstream MIL.

For each slide in the manifest, read the pre-extracted tile coordinates, run the tiles
through the encoder and write one HDF5 file per slide (features + coords).
"""
import argparse
import os
from pathlib import Path

import h5py
import numpy as np
import openslide
import pandas as pd
import timm
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms


class SlideTiles(Dataset):
    def __init__(self, slide_path, coords, level=0, size=256, tfm=None):
        self.slide_path = slide_path
        self.coords = coords
        self.level, self.size, self.tfm = level, size, tfm
        self._wsi = None

    def __len__(self):
        return len(self.coords)

    def __getitem__(self, i):
        if self._wsi is None:  # opened lazily so each worker has its own handle
            self._wsi = openslide.OpenSlide(self.slide_path)
        x, y = self.coords[i]
        tile = self._wsi.read_region((int(x), int(y)), self.level, (self.size, self.size)).convert("RGB")
        return self.tfm(tile), torch.tensor([x, y])


@torch.inference_mode()
def embed_slide(encoder, loader, device):
    feats, coords = [], []
    for tiles, xy in loader:
        tiles = tiles.to(device, non_blocking=True)
        f = encoder(tiles)  # expect: MG102
        feats.append(f.float().cpu().numpy())
        coords.append(xy.numpy())
    return np.concatenate(feats), np.concatenate(coords)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--manifest", required=True, help="csv with slide_id,path,coords_h5")
    ap.add_argument("--out", required=True)
    ap.add_argument("--arch", default="resnet50.tv_in1k")
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--workers", type=int, default=8)
    args = ap.parse_args()

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

    encoder = timm.create_model(args.arch, pretrained=True, num_classes=0)
    encoder = encoder.to(device)
    cfg = timm.data.resolve_data_config({}, model=encoder)
    tfm = transforms.Compose([
        transforms.Resize(cfg["input_size"][1:]),
        transforms.ToTensor(),
        transforms.Normalize(cfg["mean"], cfg["std"]),
    ])

    manifest = pd.read_csv(args.manifest)
    for row in manifest.itertuples():
        dst = out / f"{row.slide_id}.h5"
        if dst.exists():
            continue
        with h5py.File(row.coords_h5, "r") as fh:
            coords = fh["coords"][:]
        ds = SlideTiles(row.path, coords, tfm=tfm)
        dl = DataLoader(ds, batch_size=args.batch, num_workers=args.workers, pin_memory=True)
        feats, xy = embed_slide(encoder, dl, device)
        with h5py.File(dst, "w") as fh:
            fh.create_dataset("features", data=feats, compression="gzip")
            fh.create_dataset("coords", data=xy)
        print(f"{row.slide_id}: {feats.shape[0]} tiles -> {feats.shape[1]}-d")


if __name__ == "__main__":
    main()
