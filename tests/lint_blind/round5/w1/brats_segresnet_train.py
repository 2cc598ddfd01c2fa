"""BraTS 2021 tumour sub-region segmentation (TC / WT / ET) with a MONAI SegResNet.

    python brats_segresnet_train.py --data /data/brats21 --fold 0 --epochs 300
"""
import argparse
import json
import os
import time

import numpy as np
import torch
from monai.data import CacheDataset, DataLoader, decollate_batch
from monai.inferers import sliding_window_inference
from monai.losses import DiceLoss
from monai.metrics import DiceMetric
from monai.networks.nets import SegResNet
from monai.transforms import Activations, AsDiscrete, Compose

from brats_transforms import get_train_transforms, get_val_transforms


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--fold", type=int, default=0)
    p.add_argument("--roi", type=int, nargs=3, default=[128, 128, 128])
    p.add_argument("--epochs", type=int, default=300)
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--val-interval", type=int, default=2)
    p.add_argument("--sw-batch", type=int, default=4)
    p.add_argument("--out", default="runs/brats")
    return p.parse_args()


def load_split(root, fold):
    with open(os.path.join(root, "folds.json")) as fh:
        folds = json.load(fh)
    val = folds[str(fold)]
    train = [case for k, v in folds.items() if k != str(fold) for case in v]
    return train, val


def run_validation(net, loader, roi, sw_batch, metric, post):
    net.eval()  # expect: MG101
    with torch.no_grad():
        for batch in loader:
            img = batch["image"].cuda(non_blocking=True)
            lbl = batch["label"].cuda(non_blocking=True)
            logits = sliding_window_inference(img, roi, sw_batch, net, overlap=0.5)
            preds = [post(x) for x in decollate_batch(logits)]
            metric(y_pred=preds, y=decollate_batch(lbl))
    scores = metric.aggregate()
    metric.reset()
    return scores.cpu().numpy()


def main():
    args = parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.backends.cudnn.benchmark = True
    tr_cases, va_cases = load_split(args.data, args.fold)

    tr_ds = CacheDataset(tr_cases, get_train_transforms(args.roi), cache_rate=0.5, num_workers=8)
    va_ds = CacheDataset(va_cases, get_val_transforms(), cache_rate=1.0, num_workers=4)
    tr_dl = DataLoader(tr_ds, batch_size=2, shuffle=True, num_workers=8, drop_last=True)
    va_dl = DataLoader(va_ds, batch_size=1, num_workers=4)

    net = SegResNet(
        blocks_down=[1, 2, 2, 4], blocks_up=[1, 1, 1], init_filters=16,
        in_channels=4, out_channels=3, dropout_prob=0.2,
    ).cuda()
    loss_fn = DiceLoss(smooth_nr=0, smooth_dr=1e-5, squared_pred=True, sigmoid=True)
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=1e-5)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs)
    dice = DiceMetric(include_background=True, reduction="mean_batch")
    post = Compose([Activations(sigmoid=True), AsDiscrete(threshold=0.5)])

    best, history = -1.0, []
    net.train()
    for epoch in range(args.epochs):
        t0 = time.time()
        running = 0.0
        for step, batch in enumerate(tr_dl):
            x, y = batch["image"].cuda(), batch["label"].cuda()
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(net(x), y)
            loss.backward()
            opt.step()
            running += loss.item()
        sched.step()
        msg = f"epoch {epoch:03d} loss {running / (step + 1):.4f} ({time.time() - t0:.0f}s)"

        if (epoch + 1) % args.val_interval == 0:
            tc, wt, et = run_validation(net, va_dl, args.roi, args.sw_batch, dice, post)
            mean = float(np.mean([tc, wt, et]))
            history.append({"epoch": epoch, "tc": float(tc), "wt": float(wt), "et": float(et)})
            msg += f" | dice tc {tc:.3f} wt {wt:.3f} et {et:.3f}"
            if mean > best:
                best = mean
                torch.save(net.state_dict(), os.path.join(args.out, f"best_fold{args.fold}.pt"))
        print(msg, flush=True)

    with open(os.path.join(args.out, "history.json"), "w") as fh:
        json.dump(history, fh, indent=1)
    print("best mean dice", best)


if __name__ == "__main__":
    main()
