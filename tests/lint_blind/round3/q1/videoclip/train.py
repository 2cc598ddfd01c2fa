import argparse
import datetime
import json
import os
import time

import numpy as np
import torch
from timm.data import Mixup
from timm.loss import SoftTargetCrossEntropy
from timm.utils import ModelEmaV2

import dist_utils
from datasets import build_video_dataset, build_multiview_loader
from engine import train_one_epoch, evaluate_clips, evaluate_views
from model import VideoTransformer


def get_args():
    p = argparse.ArgumentParser("video transformer fine-tuning")
    p.add_argument("--data_path", required=True)
    p.add_argument("--num_classes", type=int, default=174)
    p.add_argument("--frames", type=int, default=16)
    p.add_argument("--epochs", type=int, default=35)
    p.add_argument("--warmup_epochs", type=int, default=5)
    p.add_argument("--batch_size", type=int, default=8)
    p.add_argument("--lr", type=float, default=5e-4)
    p.add_argument("--drop_path", type=float, default=0.1)
    p.add_argument("--mixup", type=float, default=0.8)
    p.add_argument("--model_ema_decay", type=float, default=0.0)
    p.add_argument("--finetune", default="")
    p.add_argument("--test_num_clips", type=int, default=2)
    p.add_argument("--test_num_crops", type=int, default=3)
    p.add_argument("--output_dir", default="out")
    return p.parse_args()


def cosine_schedule(base, final, epochs, iters, warmup_epochs):
    warm = np.linspace(0, base, warmup_epochs * iters)
    rest = np.arange(epochs * iters - len(warm))
    cos = final + 0.5 * (base - final) * (1 + np.cos(np.pi * rest / len(rest)))
    return np.concatenate([warm, cos])


def main(args):
    dist_utils.init_distributed_mode(args)
    train_set = build_video_dataset(args, split="train")
    val_set = build_video_dataset(args, split="val")
    train_loader = dist_utils.make_loader(train_set, args.batch_size, shuffle=True)
    val_loader = dist_utils.make_loader(val_set, args.batch_size, shuffle=False)

    model = VideoTransformer(num_classes=args.num_classes, frames=args.frames,
                             drop_path_rate=args.drop_path)
    if args.finetune:
        sd = torch.load(args.finetune, map_location="cpu")["model"]
        sd = {k: v for k, v in sd.items() if not k.startswith("head.")}
        print(model.load_state_dict(sd, strict=False))
    model.cuda()
    ema = ModelEmaV2(model, decay=args.model_ema_decay) if args.model_ema_decay > 0 else None
    ddp = torch.nn.parallel.DistributedDataParallel(model, device_ids=[args.gpu])

    mixup = Mixup(mixup_alpha=args.mixup, cutmix_alpha=1.0, label_smoothing=0.1,
                  num_classes=args.num_classes) if args.mixup > 0 else None
    criterion = SoftTargetCrossEntropy() if mixup else torch.nn.CrossEntropyLoss()
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.05)
    sched = cosine_schedule(args.lr, 1e-6, args.epochs, len(train_loader), args.warmup_epochs)

    best, t0 = 0.0, time.time()
    for epoch in range(args.epochs):
        train_loader.sampler.set_epoch(epoch)
        stats = train_one_epoch(ddp, criterion, train_loader, opt, sched, epoch, mixup, clip_grad=5.0)
        if ema is not None:
            ema.update(model)
        acc = evaluate_clips(ddp, val_loader)
        ema_acc = evaluate_clips(ema.module, val_loader) if ema is not None else float("nan")
        if acc > best and dist_utils.is_main_process():
            best = acc
            torch.save({"model": model.state_dict(), "epoch": epoch},
                       os.path.join(args.output_dir, "checkpoint-best.pth"))
        if dist_utils.is_main_process():
            with open(os.path.join(args.output_dir, "log.txt"), "a") as f:
                f.write(json.dumps({"epoch": epoch, "val_acc": acc, "ema_acc": ema_acc, **stats}) + "\n")

    print("training time", str(datetime.timedelta(seconds=int(time.time() - t0))))
    ckpt = torch.load(os.path.join(args.output_dir, "checkpoint-best.pth"), map_location="cpu")
    model.load_state_dict(ckpt["model"])
    test_loader = build_multiview_loader(args, num_clips=args.test_num_clips,
                                         num_crops=args.test_num_crops)
    final = evaluate_views(model, test_loader, args.num_classes)
    print(f"multi-view test: top1 {final['top1']:.4f} top5 {final['top5']:.4f} "
          f"on {final['videos']} videos")


if __name__ == "__main__":
    main(get_args())
