"""Semantic-segmentation evaluator: accumulates a confusion matrix and reports mIoU / aAcc."""
import logging

import numpy as np
import torch
import torch.nn.functional as F

logger = logging.getLogger(__name__)


class SemSegEvaluator:
    def __init__(self, num_classes, ignore_index=255, class_names=None, device="cuda"):
        self.num_classes = num_classes
        self.ignore_index = ignore_index
        self.class_names = class_names or [str(i) for i in range(num_classes)]
        self.device = device
        self.reset()

    def reset(self):
        self._conf = np.zeros((self.num_classes, self.num_classes), dtype=np.int64)

    def process(self, logits, target):
        pred = logits.argmax(1).cpu().numpy().ravel()
        gt = target.cpu().numpy().ravel()
        m = gt != self.ignore_index
        self._conf += np.bincount(self.num_classes * gt[m] + pred[m],
                                  minlength=self.num_classes ** 2).reshape(self.num_classes, -1)

    def summarize(self):
        tp = np.diag(self._conf)
        union = self._conf.sum(0) + self._conf.sum(1) - tp
        iou = tp / np.maximum(union, 1)
        res = {"mIoU": float(np.nanmean(iou)), "aAcc": float(tp.sum() / max(self._conf.sum(), 1))}
        for name, v in zip(self.class_names, iou):
            res[f"IoU.{name}"] = float(v)
        return res

    def evaluate(self, model, loader, flip=False):
        """Full pass over `loader`; returns the metric dict."""
        self.reset()
        model.eval()  # expect: MG101
        with torch.inference_mode():
            for img, target in loader:
                img = img.to(self.device, non_blocking=True)
                logits = model(img)
                if flip:
                    logits = 0.5 * (logits + model(img.flip(-1)).flip(-1))
                if logits.shape[-2:] != target.shape[-2:]:
                    logits = F.interpolate(logits, target.shape[-2:], mode="bilinear", align_corners=False)
                self.process(logits, target)
        res = self.summarize()
        logger.info("mIoU %.2f  aAcc %.2f", 100 * res["mIoU"], 100 * res["aAcc"])
        return res
