"""python train.py --data /data/coco --depth 34 --imagenet weights/resnet34.pth"""
import argparse
import json

import torch

from detector import Detector
from cocodata import build_coco_loaders
from fcos_loss import FCOSLoss, postprocess
from coco_eval import evaluate_detections


def run_validation(model, loader, device):
    model.eval()
    dets = []
    with torch.no_grad():
        for images, metas in loader:
            preds = model(images.to(device))
            dets.extend(postprocess(preds, metas, score_thr=0.05, nms_thr=0.6))
    return evaluate_detections(dets, loader.dataset.coco)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--depth", type=int, default=34)
    ap.add_argument("--imagenet", default=None)
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--lr", type=float, default=0.01)
    args = ap.parse_args()

    device = torch.device("cuda")
    train_dl, val_dl = build_coco_loaders(args.data, images_per_batch=2)
    model = Detector(num_classes=80, depth=args.depth, pretrained=args.imagenet).to(device)
    criterion = FCOSLoss(num_classes=80)
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[8, 11], gamma=0.1)

    for epoch in range(args.epochs):
        model.train()
        for i, (images, targets) in enumerate(train_dl):
            images = images.to(device)
            targets = [{k: v.to(device) for k, v in t.items()} for t in targets]
            losses = criterion(model(images), targets)
            loss = sum(losses.values())
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0)
            opt.step()
            if i % 100 == 0:
                print(epoch, i, {k: round(v.item(), 4) for k, v in losses.items()})
        sched.step()
        stats = run_validation(model, val_dl, device)
        print(json.dumps({"epoch": epoch, **stats}))
        torch.save(model.state_dict(), f"fcos_r{args.depth}_ep{epoch}.pth")


if __name__ == "__main__":
    main()
