"""Evaluate a trained chest X-ray checkpoint on the held-out split using all visible GPUs.

The network is a PyTorch port of our older Keras model so that the old hyper-parameters
could be reused.
"""
import argparse
import json
import os

import numpy as np
import torch
import torch.nn as nn
from sklearn.metrics import classification_report, confusion_matrix, roc_auc_score
from torch.utils.data import DataLoader

from datasets_local import XrayDataset


def conv_block(cin, cout, stride=1):
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride, 1, bias=False),
        nn.BatchNorm2d(cout, eps=1e-3, momentum=0.99),  # expect: MG303
        nn.ReLU(inplace=True),
    )


class SmallXNet(nn.Module):
    def __init__(self, num_classes=3, width=32, p_drop=0.4):
        super().__init__()
        self.stem = conv_block(1, width, stride=2)
        self.stage1 = nn.Sequential(conv_block(width, width), conv_block(width, 2 * width, 2))
        self.stage2 = nn.Sequential(conv_block(2 * width, 2 * width), conv_block(2 * width, 4 * width, 2))
        self.stage3 = nn.Sequential(conv_block(4 * width, 4 * width), conv_block(4 * width, 8 * width, 2))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(p_drop), nn.Linear(8 * width, num_classes))

    def forward(self, x):
        x = self.stage3(self.stage2(self.stage1(self.stem(x))))
        return self.head(self.pool(x))


def run_test(net, loader):
    y_true, y_prob = [], []
    with torch.no_grad():
        for batch in loader:
            imgs = batch["image"].cuda(non_blocking=True)
            logits = net(imgs)  # expect: MG102
            y_prob.append(torch.softmax(logits, dim=1).cpu().numpy())
            y_true.append(batch["label"].numpy())
    return np.concatenate(y_true), np.concatenate(y_prob)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--ckpt", required=True)
    parser.add_argument("--split-csv", default="splits/test.csv")
    parser.add_argument("--img-root", default="/data/cxr")
    parser.add_argument("--num-classes", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--out", default="results")
    args = parser.parse_args()

    ds = XrayDataset(args.split_csv, args.img_root, train=False)
    loader = DataLoader(ds, batch_size=args.batch_size, shuffle=False, num_workers=8, pin_memory=True)

    net = SmallXNet(num_classes=args.num_classes)
    if torch.cuda.device_count() > 1:
        print("Using", torch.cuda.device_count(), "GPUs")
        net = nn.DataParallel(net)
    net = net.cuda()

    state = torch.load(args.ckpt, map_location="cpu")
    state = state.get("state_dict", state)
    if not isinstance(net, nn.DataParallel):
        # checkpoint was written from the DataParallel wrapper during training
        state = {k.replace("module.", "", 1): v for k, v in state.items()}
    net.load_state_dict(state)

    y_true, y_prob = run_test(net, loader)
    y_pred = y_prob.argmax(1)
    print(classification_report(y_true, y_pred, digits=4))
    print(confusion_matrix(y_true, y_pred))
    auc = roc_auc_score(y_true, y_prob, multi_class="ovr")
    print(f"macro AUC: {auc:.4f}")

    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "test_metrics.json"), "w") as f:
        json.dump({"auc": float(auc), "acc": float((y_true == y_pred).mean())}, f, indent=2)
