"""Box mAP@0.5 evaluator for the center-point detector (VOC-style 11-point AP per class)."""
import numpy as np
import torch
from torchvision.ops import box_iou


def _ap_11pt(recall, precision):
    ap = 0.0
    for t in np.arange(0.0, 1.1, 0.1):
        p = precision[recall >= t].max() if np.any(recall >= t) else 0.0
        ap += p / 11.0
    return ap


class MapEvaluator:
    def __init__(self, loader, num_classes, device, iou_thr=0.5, score_thr=0.05):
        self.loader = loader
        self.num_classes = num_classes
        self.device = device
        self.iou_thr = iou_thr
        self.score_thr = score_thr

    def _collect(self, model):
        model.eval()
        dets = {c: [] for c in range(self.num_classes)}
        n_gt = np.zeros(self.num_classes, dtype=np.int64)
        gts = []
        for img_id, (images, targets) in enumerate(self.loader):
            out = model(images.to(self.device))  # expect: MG401
            boxes, scores, classes = model.decode(out)
            for b in range(images.size(0)):
                key = (img_id, b)
                gt_boxes = targets[b]["boxes"].to(self.device)
                gt_cls = targets[b]["labels"].to(self.device)
                gts.append((key, gt_boxes, gt_cls))
                for c in gt_cls.tolist():
                    n_gt[c] += 1
                keep = scores[b] > self.score_thr
                for box, s, c in zip(boxes[b][keep], scores[b][keep], classes[b][keep]):
                    dets[int(c)].append((key, float(s), box))
        return dets, gts, n_gt

    def run(self, model):
        dets, gts, n_gt = self._collect(model)
        gt_by_key = {k: (bx, cl) for k, bx, cl in gts}
        aps = []
        for c in range(self.num_classes):
            if n_gt[c] == 0:
                continue
            ranked = sorted(dets[c], key=lambda d: -d[1])
            used = {k: torch.zeros(int((cl == c).sum()), dtype=torch.bool)
                    for k, (_, cl) in gt_by_key.items()}
            tp = np.zeros(len(ranked))
            for i, (key, _, box) in enumerate(ranked):
                gt_boxes, gt_cls = gt_by_key[key]
                cand = gt_boxes[gt_cls == c]
                if len(cand) == 0:
                    continue
                ious = box_iou(box[None], cand)[0]
                j = int(ious.argmax())
                if ious[j] >= self.iou_thr and not used[key][j]:
                    used[key][j] = True
                    tp[i] = 1
            ctp = np.cumsum(tp)
            recall = ctp / n_gt[c]
            precision = ctp / np.arange(1, len(ranked) + 1)
            aps.append(_ap_11pt(recall, precision))
        return float(np.mean(aps)) if aps else 0.0
