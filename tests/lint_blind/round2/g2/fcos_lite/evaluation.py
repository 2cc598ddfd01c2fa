"""VOC-style mAP evaluation for FCOSLite."""
from collections import defaultdict

import numpy as np
import torch

from .postprocess import decode_and_nms
from .voc_ap import voc_ap, box_iou_np


class VOCMapEvaluator:
    def __init__(self, loader, class_names, iou_thr=0.5, score_thr=0.05, device="cuda"):
        self.loader = loader
        self.class_names = class_names
        self.iou_thr = iou_thr
        self.score_thr = score_thr
        self.device = device

    def _collect(self, detector):
        dets, gts = defaultdict(list), defaultdict(list)
        with torch.no_grad():
            for images, targets, img_ids in self.loader:
                raw = detector(images.to(self.device))
                for k, res in enumerate(decode_and_nms(raw, (8, 16, 32), self.score_thr)):
                    for box, score, lab in zip(res["boxes"], res["scores"], res["labels"]):
                        dets[int(lab)].append((img_ids[k], float(score), box.cpu().numpy()))
                    for box, lab in zip(targets[k]["boxes"], targets[k]["labels"]):
                        gts[int(lab)].append((img_ids[k], box.numpy()))
        return dets, gts

    def _ap_for_class(self, dets, gts):
        by_img = defaultdict(list)
        for img_id, box in gts:
            by_img[img_id].append(box)
        used = {k: np.zeros(len(v), bool) for k, v in by_img.items()}
        dets = sorted(dets, key=lambda d: -d[1])
        tp = np.zeros(len(dets))
        for i, (img_id, _, box) in enumerate(dets):
            cand = by_img.get(img_id)
            if not cand:
                continue
            ious = box_iou_np(box[None], np.stack(cand))[0]
            j = int(ious.argmax())
            if ious[j] >= self.iou_thr and not used[img_id][j]:
                tp[i], used[img_id][j] = 1, True
        fp = 1 - tp
        rec = np.cumsum(tp) / max(len(gts), 1)
        prec = np.cumsum(tp) / np.maximum(np.cumsum(tp) + np.cumsum(fp), 1e-9)
        return voc_ap(rec, prec)

    def __call__(self, detector):
        detector.eval()  # expect: MG101
        dets, gts = self._collect(detector)
        aps = {name: self._ap_for_class(dets[c], gts[c]) for c, name in enumerate(self.class_names)}
        return {"mAP50": float(np.mean(list(aps.values()))), "per_class": aps}
