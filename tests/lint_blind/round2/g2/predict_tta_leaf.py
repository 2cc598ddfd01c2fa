"""Ensemble + TTA inference for the cassava leaf disease challenge -> submission.csv"""
import argparse
import glob
import os

import numpy as np
import pandas as pd
import timm
import torch
from PIL import Image
import albumentations as A
from albumentations.pytorch import ToTensorV2


def make_tfms(size):
    norm = A.Normalize(mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225))
    base = [A.Resize(size, size), norm, ToTensorV2()]
    return {
        "id": A.Compose(base),
        "hflip": A.Compose([A.HorizontalFlip(p=1.0)] + base),
        "vflip": A.Compose([A.VerticalFlip(p=1.0)] + base),
        "t90": A.Compose([A.Transpose(p=1.0)] + base),
    }


def load_fold_models(pattern, arch, device):
    members = []
    for ckpt in sorted(glob.glob(pattern)):
        m = timm.create_model(arch, pretrained=False, num_classes=5)
        m.load_state_dict(torch.load(ckpt, map_location="cpu"))
        members.append(m.to(device).eval())
    print(f"loaded {len(members)} folds")
    return members


@torch.inference_mode()
def tta_probs(members, img, tfms, device, weights):
    acc = torch.zeros(5, device=device)
    for name, t in tfms.items():
        x = t(image=img)["image"].unsqueeze(0).to(device)
        for m in members:
            acc += weights[name] * m(x).softmax(-1)[0]
    return (acc / (len(members) * sum(weights.values()))).cpu().numpy()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--test-dir", default="../input/test_images")
    ap.add_argument("--ckpts", default="weights/effb4_fold*.pth")
    ap.add_argument("--arch", default="tf_efficientnet_b4_ns")
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--tta-weights", default="{'id': 2.0, 'hflip': 1.0, 'vflip': 1.0, 't90': 1.0}")
    args = ap.parse_args()

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    members = load_fold_models(args.ckpts, args.arch, device)
    tfms = make_tfms(args.size)
    weights = eval(args.tta_weights)  # trusted CLI input, dict literal

    rows = []
    for path in sorted(glob.glob(os.path.join(args.test_dir, "*.jpg"))):
        img = np.asarray(Image.open(path).convert("RGB"))
        p = tta_probs(members, img, tfms, device, weights)
        rows.append({"image_id": os.path.basename(path), **{f"p{k}": float(v) for k, v in enumerate(p)}})

    df = pd.DataFrame(rows)
    df["label"] = df[[f"p{k}" for k in range(5)]].values.argmax(1)
    df = df.eval("prob_sum_err = p0 + p1 + p2 + p3 + p4 - 1")  # sanity column, should be ~0
    assert df["prob_sum_err"].abs().max() < 1e-4
    df[["image_id", "label"]].to_csv("submission.csv", index=False)
    print(df["label"].value_counts())


if __name__ == "__main__":
    main()
