"""Train a single-stage detector (RetinaNet-style head) on COCO.

Evaluation can run every `--eval-iters` iterations so long schedules get
intermediate mAP numbers without waiting for the end of an epoch.
"""
import argparse
import json
import os

import torch
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from dets.config import load_config
from dets.data import build_coco_loader
from dets.losses import FocalBoxLoss
from dets.model import build_detector
from dets.postprocess import decode_and_nms


def parse_args():
    ap = argparse.ArgumentParser()
    ap.add_argument("config")
    ap.add_argument("--coco-root", default="/data/coco")
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--eval-iters", type=int, default=0, help="0 = only at the end of each epoch")
    ap.add_argument("--work-dir", default="work_dirs/retina")
    ap.add_argument("--amp", action="store_true")
    return ap.parse_args()


def evaluate_coco(detector, loader, coco_gt, device, out_json):
    detector.eval()  # expect: MG101
    results = []
    with torch.no_grad():
        for images, metas in loader:
            cls_out, box_out = detector(images.to(device))
            for det, meta in zip(decode_and_nms(cls_out, box_out, metas), metas):
                for (x1, y1, x2, y2), score, label in zip(det["boxes"].tolist(), det["scores"].tolist(),
                                                          det["labels"].tolist()):
                    results.append({"image_id": meta["image_id"], "category_id": meta["cat_ids"][label],
                                    "bbox": [x1, y1, x2 - x1, y2 - y1], "score": score})
    if not results:
        return 0.0
    with open(out_json, "w") as fh:
        json.dump(results, fh)
    coco_dt = coco_gt.loadRes(out_json)
    ev = COCOeval(coco_gt, coco_dt, "bbox")
    ev.evaluate()
    ev.accumulate()
    ev.summarize()
    return ev.stats[0]


def train_one_epoch(detector, criterion, loader, optimizer, scaler, epoch, args, ctx):
    detector.train()
    device = ctx["device"]
    for it, (images, targets) in enumerate(loader):
        images = images.to(device, non_blocking=True)
        targets = [{k: v.to(device) for k, v in t.items()} for t in targets]
        with torch.autocast("cuda", enabled=args.amp):
            cls_out, box_out = detector(images)
            loss_cls, loss_box = criterion(cls_out, box_out, targets, ctx["anchors"])
            loss = loss_cls + loss_box
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(detector.parameters(), 35.0)
        scaler.step(optimizer)
        scaler.update()
        ctx["warmup"].step()

        if it % 50 == 0:
            print(f"ep {epoch} it {it}/{len(loader)} cls {loss_cls.item():.4f} box {loss_box.item():.4f}")
        if args.eval_iters and (it + 1) % args.eval_iters == 0:
            m_ap = evaluate_coco(detector, ctx["val_loader"], ctx["coco_gt"], device,
                                 os.path.join(args.work_dir, "dets_tmp.json"))
            print(f"ep {epoch} it {it + 1}: bbox mAP {m_ap:.4f}")


def main():
    args = parse_args()
    os.makedirs(args.work_dir, exist_ok=True)
    cfg = load_config(args.config)
    device = torch.device("cuda")

    detector = build_detector(cfg.model).to(device)
    criterion = FocalBoxLoss(alpha=0.25, gamma=2.0, beta=0.11)
    train_loader = build_coco_loader(args.coco_root, "train2017", cfg.data, train=True)
    val_loader = build_coco_loader(args.coco_root, "val2017", cfg.data, train=False)
    coco_gt = COCO(os.path.join(args.coco_root, "annotations", "instances_val2017.json"))

    params = [p for p in detector.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(params, lr=cfg.lr, momentum=0.9, weight_decay=1e-4)
    warmup = torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=0.001, total_iters=500)
    steps = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=[8, 11], gamma=0.1)
    scaler = torch.cuda.amp.GradScaler(enabled=args.amp)
    ctx = {"device": device, "anchors": detector.anchors, "warmup": warmup,
           "val_loader": val_loader, "coco_gt": coco_gt}

    for epoch in range(args.epochs):
        train_one_epoch(detector, criterion, train_loader, optimizer, scaler, epoch, args, ctx)
        steps.step()
        m_ap = evaluate_coco(detector, val_loader, coco_gt, device,
                             os.path.join(args.work_dir, f"dets_ep{epoch}.json"))
        torch.save({"model": detector.state_dict(), "epoch": epoch, "mAP": m_ap},
                   os.path.join(args.work_dir, f"epoch_{epoch}.pth"))


if __name__ == "__main__":
    main()
