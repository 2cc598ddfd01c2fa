"""Kaggle-style inference: 5-fold ensemble with flip TTA, writes submission.csv."""
import argparse
import glob
import os

import numpy as np
import pandas as pd
import timm
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset
import albumentations as A
from albumentations.pytorch import ToTensorV2


class LeafTestSet(Dataset):
    def __init__(self, image_dir, size):
        self.paths = sorted(glob.glob(os.path.join(image_dir, "*.jpg")))
        self.aug = A.Compose([
            A.Resize(size, size),
            A.Normalize(mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225)),
            ToTensorV2(),
        ])

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        img = np.array(Image.open(self.paths[i]).convert("RGB"))
        return self.aug(image=img)["image"], os.path.basename(self.paths[i])


def load_fold(arch, ckpt_path, n_classes, device):
    net = timm.create_model(arch, pretrained=False, num_classes=n_classes)
    state = torch.load(ckpt_path, map_location="cpu")
    state = state.get("model", state)
    state = {k.replace("module.", ""): v for k, v in state.items()}
    net.load_state_dict(state)
    return net.to(device)


def tta_probs(net, images):
    logits = net(images)  # expect: MG102
    logits = logits + net(torch.flip(images, dims=[3]))
    logits = logits + net(torch.flip(images, dims=[2]))
    return (logits / 3.0).softmax(dim=1)


def parse_args():
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", default="../input/test_images")
    ap.add_argument("--ckpt-glob", default="weights/fold*_best.pth")
    ap.add_argument("--arch", default="tf_efficientnet_b4_ns")
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--classes", type=int, default=5)
    ap.add_argument("--bs", type=int, default=16)
    ap.add_argument("--out", default="submission.csv")
    return ap.parse_args()


def main():
    args = parse_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    ds = LeafTestSet(args.images, args.size)
    loader = DataLoader(ds, batch_size=args.bs, shuffle=False, num_workers=4)

    ckpts = sorted(glob.glob(args.ckpt_glob))
    assert ckpts, "no checkpoints matched %s" % args.ckpt_glob
    ensemble = np.zeros((len(ds), args.classes), dtype=np.float32)
    names = []

    for fold_i, ck in enumerate(ckpts):
        net = load_fold(args.arch, ck, args.classes, device)
        offset = 0
        with torch.no_grad():
            for images, batch_names in loader:
                probs = tta_probs(net, images.to(device)).cpu().numpy()
                ensemble[offset:offset + len(probs)] += probs / len(ckpts)
                offset += len(probs)
                if fold_i == 0:
                    names.extend(batch_names)
        del net
        torch.cuda.empty_cache()
        print("fold %d done (%s)" % (fold_i, os.path.basename(ck)))

    sub = pd.DataFrame({"image_id": names, "label": ensemble.argmax(1)})
    sub.to_csv(args.out, index=False)
    print(sub["label"].value_counts())


if __name__ == "__main__":
    main()
