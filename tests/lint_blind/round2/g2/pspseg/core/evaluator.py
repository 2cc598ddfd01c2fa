"""Sliding-window mIoU evaluation for PSPNet."""
import numpy as np
import torch
import torch.nn.functional as F

from .modes import evaluation, unwrap


def sliding_logits(net, img, n_cls, crop=713, stride_rate=2 / 3):
    _, _, H, W = img.shape
    stride = int(crop * stride_rate)
    out = img.new_zeros(1, n_cls, H, W)
    count = img.new_zeros(1, 1, H, W)
    for top in range(0, max(H - crop, 0) + stride, stride):
        for left in range(0, max(W - crop, 0) + stride, stride):
            t, l = min(top, max(H - crop, 0)), min(left, max(W - crop, 0))
            patch = img[:, :, t:t + crop, l:l + crop]
            ph, pw = patch.shape[-2:]
            patch = F.pad(patch, (0, crop - pw, 0, crop - ph))
            logit = net(patch)[:, :, :ph, :pw]
            out[:, :, t:t + ph, l:l + pw] += logit
            count[:, :, t:t + ph, l:l + pw] += 1
    return out / count


class MeanIoU:
    def __init__(self, loader, n_cls, ignore=255):
        self.loader = loader
        self.n_cls = n_cls
        self.ignore = ignore

    def __call__(self, model):
        hist = np.zeros((self.n_cls, self.n_cls), dtype=np.int64)
        with evaluation(unwrap(model)) as net:
            for img, lbl in self.loader:
                pred = sliding_logits(net, img.cuda(), self.n_cls).argmax(1).cpu().numpy().ravel()
                gt = lbl.numpy().ravel()
                keep = gt != self.ignore
                hist += np.bincount(self.n_cls * gt[keep] + pred[keep],
                                    minlength=self.n_cls ** 2).reshape(self.n_cls, self.n_cls)
        iou = np.diag(hist) / np.maximum(hist.sum(0) + hist.sum(1) - np.diag(hist), 1)
        return {"mIoU": float(iou.mean()), "aAcc": float(np.diag(hist).sum() / hist.sum())}
