import csv
import glob
import os

import torch
from PIL import Image
from torchvision import transforms as T

from backbone import build_model

_tf = T.Compose([T.Resize(1024), T.CenterCrop(1024), T.ToTensor(),
                 T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])


def load_images(paths):
    return torch.stack([_tf(Image.open(p).convert("RGB")) for p in paths])


def predict_dir(ckpt_path, image_dir, class_names, out_csv, device="cuda", threshold=0.5, bs=8):
    # no BN freezing needed at inference time
    model = build_model(len(class_names), pretrained=False, freeze_bn=False)
    model.load_state_dict(torch.load(ckpt_path, map_location="cpu"))
    model.to(device)

    paths = sorted(glob.glob(os.path.join(image_dir, "*.png")) + glob.glob(os.path.join(image_dir, "*.jpg")))
    rows = []
    with torch.no_grad():
        for start in range(0, len(paths), bs):
            chunk = paths[start:start + bs]
            probs = torch.sigmoid(model(load_images(chunk).to(device))).cpu()  # expect: MG102
            for p, pr in zip(chunk, probs):
                labels = [c for c, v in zip(class_names, pr.tolist()) if v >= threshold]
                rows.append([os.path.basename(p), ";".join(labels)] + [f"{v:.4f}" for v in pr.tolist()])

    with open(out_csv, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["image", "labels"] + list(class_names))
        w.writerows(rows)
    return len(rows)
