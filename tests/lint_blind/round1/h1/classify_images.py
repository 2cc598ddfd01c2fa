#!/usr/bin/env python3
"""Batch prediction with an exported classifier checkpoint; writes a CSV.

Example:
    python classify_images.py --ckpt out/convnext_t_fold0.pth --images shots/ \
        --size "(384, 384)" --topk 3 --csv preds.csv
"""
import argparse
import csv
import os
from pathlib import Path

import torch
from PIL import Image
from torchvision import transforms

from zoo import create_classifier

EXTS = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}


class Predictor:
    def __init__(self, ckpt_path, size, device=None):
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        blob = torch.load(ckpt_path, map_location="cpu")
        self.classes = blob["classes"]
        self.net = create_classifier(blob["arch"], num_classes=len(self.classes))
        self.net.load_state_dict(blob["state_dict"])
        self.net.to(self.device)
        self.net.eval()
        self.tf = transforms.Compose([
            transforms.Resize(size),
            transforms.ToTensor(),
            transforms.Normalize(blob.get("mean", [0.485, 0.456, 0.406]), blob.get("std", [0.229, 0.224, 0.225])),
        ])

    @torch.no_grad()
    def __call__(self, pil_images, topk=1):
        batch = torch.stack([self.tf(im.convert("RGB")) for im in pil_images]).to(self.device)
        probs = self.net(batch).softmax(dim=1)
        flipped = self.net(torch.flip(batch, dims=[3])).softmax(dim=1)
        probs = 0.5 * (probs + flipped)
        conf, idx = probs.topk(topk, dim=1)
        return [[(self.classes[j], float(c)) for c, j in zip(cr, ir)] for cr, ir in zip(conf.tolist(), idx.tolist())]


def chunked(seq, n):
    for i in range(0, len(seq), n):
        yield seq[i:i + n]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--images", required=True)
    ap.add_argument("--size", default="(224, 224)", help="python tuple literal, e.g. '(384, 384)'")
    ap.add_argument("--topk", type=int, default=1)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--csv", default="predictions.csv")
    args = ap.parse_args()

    size = eval(args.size) if args.size.startswith("(") else int(args.size)
    predictor = Predictor(args.ckpt, size)
    files = sorted(p for p in Path(args.images).rglob("*") if p.suffix.lower() in EXTS)
    print(f"{len(files)} images, {len(predictor.classes)} classes")

    with open(args.csv, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["file"] + [f"top{i + 1}" for i in range(args.topk)] + ["confidence"])
        for group in chunked(files, args.batch):
            preds = predictor([Image.open(p) for p in group], topk=args.topk)
            for path, pred in zip(group, preds):
                writer.writerow([os.path.relpath(path, args.images)] + [c for c, _ in pred] + [f"{pred[0][1]:.4f}"])


if __name__ == "__main__":
    main()
