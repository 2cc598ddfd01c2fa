"""Kinetics-400 multi-view testing: 10 temporal clips x 3 spatial crops per video.

Per-view softmax scores are averaged per video; reports top-1 / top-5 and writes the
per-video scores so different checkpoints can be late-fused later.
"""
import argparse
import json
from collections import defaultdict

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader
from tqdm import tqdm

from slowfast.config.defaults import get_cfg
from slowfast.datasets.kinetics import KineticsMultiView
from slowfast.models import build_model
import slowfast.utils.checkpoint as cu


def topk_hits(scores, labels, k):
    top = scores.topk(k, dim=1).indices
    return (top == labels[:, None]).any(1).float().sum().item()


@torch.no_grad()
def multiview_scores(model, loader, num_classes, device):
    video_scores = defaultdict(lambda: torch.zeros(num_classes))
    video_label = {}
    view_count = defaultdict(int)
    for inputs, labels, video_idx, _meta in tqdm(loader, desc="views"):
        if isinstance(inputs, (list, tuple)):
            inputs = [x.to(device, non_blocking=True) for x in inputs]
        else:
            inputs = inputs.to(device, non_blocking=True)
        probs = F.softmax(model(inputs).float(), dim=1).cpu()
        for p, y, v in zip(probs, labels.tolist(), video_idx.tolist()):
            video_scores[v] += p
            video_label[v] = y
            view_count[v] += 1
    ids = sorted(video_scores)
    scores = torch.stack([video_scores[i] / view_count[i] for i in ids])
    labels = torch.tensor([video_label[i] for i in ids])
    return ids, scores, labels


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cfg", required=True)
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--clips", type=int, default=10)
    ap.add_argument("--crops", type=int, default=3)
    ap.add_argument("--dump", default="k400_val_scores.npz")
    args = ap.parse_args()

    cfg = get_cfg()
    cfg.merge_from_file(args.cfg)
    cfg.TEST.NUM_ENSEMBLE_VIEWS = args.clips
    cfg.TEST.NUM_SPATIAL_CROPS = args.crops
    device = torch.device("cuda")

    model = build_model(cfg)
    cu.load_checkpoint(args.ckpt, model, data_parallel=False)
    model = model.to(device)
    model.eval()

    ds = KineticsMultiView(cfg, split="val", num_clips=args.clips, num_crops=args.crops)
    loader = DataLoader(ds, batch_size=cfg.TEST.BATCH_SIZE, num_workers=cfg.DATA_LOADER.NUM_WORKERS,
                        pin_memory=True)
    ids, scores, labels = multiview_scores(model, loader, cfg.MODEL.NUM_CLASSES, device)

    n = len(ids)
    top1 = topk_hits(scores, labels, 1) / n
    top5 = topk_hits(scores, labels, 5) / n
    print(json.dumps({"videos": n, "views_per_video": args.clips * args.crops,
                      "top1": round(100 * top1, 2), "top5": round(100 * top5, 2)}))
    np.savez_compressed(args.dump, ids=np.array(ids), scores=scores.numpy(), labels=labels.numpy())


if __name__ == "__main__":
    main()
