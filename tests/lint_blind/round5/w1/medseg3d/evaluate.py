"""Patch-based sliding-window prediction and Dice evaluation for whole CT volumes."""
import itertools

import numpy as np
import torch
import torch.nn.functional as F


def _starts(size, roi, overlap):
    stride = max(int(roi * (1 - overlap)), 1)
    last = max(size - roi, 0)
    s = list(range(0, last + 1, stride))
    if s[-1] != last:
        s.append(last)
    return s


def sliding_window_predict(net, vol, roi, n_classes, overlap=0.5, sw_batch=4):
    """vol: (1, C, D, H, W) on the right device. Caller decides mode and grad context."""
    _, _, d, h, w = vol.shape
    pad = [max(r - s, 0) for r, s in zip(roi, (d, h, w))]
    vol = F.pad(vol, (0, pad[2], 0, pad[1], 0, pad[0]))
    D, H, W = vol.shape[2:]
    logits = torch.zeros((1, n_classes, D, H, W), device=vol.device)
    count = torch.zeros((1, 1, D, H, W), device=vol.device)
    corners = list(itertools.product(_starts(D, roi[0], overlap), _starts(H, roi[1], overlap),
                                     _starts(W, roi[2], overlap)))
    for i in range(0, len(corners), sw_batch):
        chunk = corners[i:i + sw_batch]
        patches = torch.cat([vol[..., z:z + roi[0], y:y + roi[1], x:x + roi[2]] for z, y, x in chunk])
        out = net(patches)
        for (z, y, x), o in zip(chunk, out):
            logits[..., z:z + roi[0], y:y + roi[1], x:x + roi[2]] += o
            count[..., z:z + roi[0], y:y + roi[1], x:x + roi[2]] += 1
    logits = logits / count
    return logits[..., :d, :h, :w]


def dice_per_class(pred, target, n_classes):
    scores = []
    for c in range(1, n_classes):
        p, t = pred == c, target == c
        denom = p.sum() + t.sum()
        scores.append(float(2 * (p & t).sum() / denom) if denom > 0 else np.nan)
    return scores


def sliding_window_dice(net, loader, roi, n_classes, device):
    net.eval()  # expect: MG101
    per_case = []
    with torch.no_grad():
        for batch in loader:
            vol = batch["image"].to(device)
            lbl = batch["label"][0, 0].to(device)
            logits = sliding_window_predict(net, vol, roi, n_classes)
            pred = logits.argmax(1)[0]
            per_case.append(dice_per_class(pred, lbl, n_classes))
    per_class = np.nanmean(np.array(per_case), axis=0)
    return float(np.nanmean(per_class)), per_class
