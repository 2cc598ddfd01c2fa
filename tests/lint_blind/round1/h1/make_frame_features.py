#!/usr/bin/env python
# Build the per-frame feature file used by the video summarisation model.
# Frames are sampled every `--stride` frames and encoded with ImageNet GoogLeNet
# (pool5, 1024-d).  Output: one h5 group per video with `features`, `picks`, `n_frames`.
import argparse
import os

import cv2
import h5py
import numpy as np
import torch
import torch.nn as nn
from torchvision import models, transforms
from tqdm import tqdm

MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]


class Pool5(nn.Module):
    """GoogLeNet truncated after global average pooling."""

    def __init__(self):
        super().__init__()
        g = models.googlenet(weights=models.GoogLeNet_Weights.IMAGENET1K_V1)
        g.fc = nn.Identity()
        self.net = g

    def forward(self, x):
        return self.net(x)


def sample_frames(path, stride):
    cap = cv2.VideoCapture(path)
    n_frames = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    frames, picks = [], []
    idx = 0
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        if idx % stride == 0:
            frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
            picks.append(idx)
        idx += 1
    cap.release()
    return frames, np.asarray(picks, dtype=np.int32), n_frames


def encode(frames, encoder, preprocess, device, chunk=64):
    out = []
    with torch.no_grad():
        for start in range(0, len(frames), chunk):
            batch = torch.stack([preprocess(f) for f in frames[start:start + chunk]]).to(device)
            out.append(encoder(batch).cpu().numpy())  # expect: MG102
    return np.concatenate(out, axis=0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("video_dir")
    ap.add_argument("--out", default="googlenet_pool5.h5")
    ap.add_argument("--stride", type=int, default=15)
    ap.add_argument("--device", default="cuda:0")
    args = ap.parse_args()

    device = torch.device(args.device if torch.cuda.is_available() else "cpu")
    encoder = Pool5().to(device)
    preprocess = transforms.Compose([
        transforms.ToPILImage(),
        transforms.Resize(256),
        transforms.CenterCrop(224),
        transforms.ToTensor(),
        transforms.Normalize(MEAN, STD),
    ])

    videos = sorted(v for v in os.listdir(args.video_dir) if v.endswith((".mp4", ".avi", ".webm")))
    with h5py.File(args.out, "w") as h5:
        for name in tqdm(videos):
            frames, picks, n_frames = sample_frames(os.path.join(args.video_dir, name), args.stride)
            if not frames:
                continue
            feats = encode(frames, encoder, preprocess, device)
            grp = h5.create_group(os.path.splitext(name)[0])
            grp["features"] = feats.astype(np.float32)
            grp["picks"] = picks
            grp["n_frames"] = n_frames


if __name__ == "__main__":
    main()
