#!/usr/bin/env python
"""Standalone COCO evaluation of a Mask R-CNN checkpoint (bbox + segm).

    python eval_maskrcnn_coco.py --ckpt model_final.pth --ann instances_val2017.json --img-dir val2017
"""
import argparse
import json
import time

import numpy as np
import pandas as pd
import pycocotools.mask as mask_util
import torch
import torchvision
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval
from torchvision.transforms.functional import to_tensor
from PIL import Image


def load_detector(ckpt, num_classes=91):
    det = torchvision.models.detection.maskrcnn_resnet50_fpn_v2(weights=None, num_classes=num_classes)
    sd = torch.load(ckpt, map_location="cpu")
    det.load_state_dict(sd["model"] if "model" in sd else sd)
    return det.eval()


def encode_masks(masks, thr=0.5):
    rles = []
    for m in masks:
        rle = mask_util.encode(np.asfortranarray((m[0] > thr).astype(np.uint8)))
        rle["counts"] = rle["counts"].decode("ascii")
        rles.append(rle)
    return rles


@torch.inference_mode()
def run_inference(det, coco, img_dir, device, cat_ids):
    results = []
    t0 = time.time()
    for n, img_id in enumerate(coco.getImgIds()):
        info = coco.loadImgs(img_id)[0]
        img = to_tensor(Image.open(f"{img_dir}/{info['file_name']}").convert("RGB")).to(device)
        out = det([img])[0]
        boxes = out["boxes"].cpu().numpy()
        boxes[:, 2:] -= boxes[:, :2]
        rles = encode_masks(out["masks"].cpu().numpy())
        for b, s, l, r in zip(boxes, out["scores"].tolist(), out["labels"].tolist(), rles):
            results.append({"image_id": img_id, "category_id": cat_ids[l], "bbox": b.tolist(),
                            "score": s, "segmentation": r})
        if n % 500 == 0:
            print(f"{n} images, {(time.time() - t0) / (n + 1):.3f}s/img")
    return results


def summarize(coco, results, iou_type):
    dt = coco.loadRes(results)
    ev = COCOeval(coco, dt, iou_type)
    ev.evaluate()
    ev.accumulate()
    ev.summarize()
    names = ["AP", "AP50", "AP75", "APs", "APm", "APl"]
    return dict(zip(names, ev.stats[:6].tolist()))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--ann", required=True)
    ap.add_argument("--img-dir", required=True)
    ap.add_argument("--out", default="coco_eval.csv")
    args = ap.parse_args()

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    det = load_detector(args.ckpt).to(device)
    coco = COCO(args.ann)
    # torchvision's COCO heads predict the original (sparse) category ids directly
    cat_ids = {c: c for c in coco.getCatIds()}
    results = run_inference(det, coco, args.img_dir, device, cat_ids)
    with open("detections.json", "w") as f:
        json.dump(results, f)

    table = pd.DataFrame({t: summarize(coco, results, t) for t in ("bbox", "segm")}).T
    table = table.eval("AP_gap = AP50 - AP75")
    print(table.round(4))
    table.to_csv(args.out)


if __name__ == "__main__":
    main()
