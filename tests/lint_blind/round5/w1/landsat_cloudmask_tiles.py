"""Cloud / cloud-shadow masking for Landsat-8 scenes.

Streams 512x512 windows from the GeoTIFF with rasterio, runs a compiled segmentation
network in bf16 with channels_last memory format, and writes a uint8 mask GeoTIFF
(0 clear, 1 cloud, 2 shadow, 255 nodata).
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import rasterio
import torch
from rasterio.windows import Window

from cloudnets import build_cloud_segmenter

BANDS = [2, 3, 4, 5, 6, 7, 10]  # blue .. swir2, tirs1


def windows(height: int, width: int, size: int, overlap: int):
    stride = size - overlap
    for row in range(0, max(height - overlap, 1), stride):
        for col in range(0, max(width - overlap, 1), stride):
            yield Window(col, row, min(size, width - col), min(size, height - row))


def load_model(ckpt: Path, device: torch.device) -> torch.nn.Module:
    state = torch.load(ckpt, map_location="cpu", weights_only=True)
    net = build_cloud_segmenter(state["arch"], in_chans=len(BANDS), num_classes=3)
    net.load_state_dict(state["model"])
    net = net.to(device, memory_format=torch.channels_last)
    compiled = torch.compile(net, mode="reduce-overhead")
    return compiled.eval()


@torch.inference_mode()
def run_scene(net, src_path: Path, dst_path: Path, stats: dict, size=512, overlap=64,
              device=torch.device("cuda")):
    mean = torch.tensor(stats["mean"], device=device).view(1, -1, 1, 1)
    std = torch.tensor(stats["std"], device=device).view(1, -1, 1, 1)
    with rasterio.open(src_path) as src:
        profile = src.profile.copy()
        profile.update(count=1, dtype="uint8", nodata=255, compress="deflate")
        with rasterio.open(dst_path, "w", **profile) as dst:
            for win in windows(src.height, src.width, size, overlap):
                arr = src.read(BANDS, window=win, boundless=True, fill_value=0).astype(np.float32)
                nodata = (arr == 0).all(0)
                x = torch.from_numpy(arr)[None].to(device)
                ph, pw = size - x.shape[-2], size - x.shape[-1]
                x = torch.nn.functional.pad(x, (0, pw, 0, ph), mode="reflect" if min(ph, pw) >= 0 else "constant")
                x = ((x * 2.75e-5 - 0.2 - mean) / std).contiguous(memory_format=torch.channels_last)
                with torch.autocast("cuda", dtype=torch.bfloat16):
                    logits = net(x)
                pred = logits[0, :, : win.height, : win.width].argmax(0).byte().cpu().numpy()
                pred[nodata] = 255
                half = overlap // 2
                r0 = 0 if win.row_off == 0 else half
                c0 = 0 if win.col_off == 0 else half
                inner = Window(win.col_off + c0, win.row_off + r0, win.width - c0, win.height - r0)
                dst.write(pred[r0:, c0:], 1, window=inner)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("scenes", nargs="+", type=Path)
    ap.add_argument("--ckpt", type=Path, required=True)
    ap.add_argument("--out-dir", type=Path, default=Path("masks"))
    args = ap.parse_args()

    torch.backends.cudnn.benchmark = True
    torch.backends.cuda.matmul.allow_tf32 = True
    device = torch.device("cuda")
    net = load_model(args.ckpt, device)
    stats = torch.load(args.ckpt, map_location="cpu", weights_only=True)["norm"]
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for scene in args.scenes:
        dst = args.out_dir / (scene.stem + "_cloudmask.tif")
        run_scene(net, scene, dst, stats, device=device)
        print(f"{scene.name} -> {dst}")


if __name__ == "__main__":
    main()
