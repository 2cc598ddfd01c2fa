"""ConvNeXt-T fine-tuning on Food-101 with MixUp and a weight EMA.

The EMA copy is never trained; it lives in eval mode and is only used for
validation / the exported checkpoint.
"""
import copy
import argparse

import torch
import torch.nn as nn
import torch.nn.functional as F
import timm
from timm.data import Mixup, create_loader, create_dataset, resolve_data_config


class WeightEMA:
    def __init__(self, net, decay=0.9998):
        self.shadow = copy.deepcopy(net).eval()
        for p in self.shadow.parameters():
            p.requires_grad_(False)
        self.decay = decay

    @torch.no_grad()
    def update(self, net):
        msd = net.state_dict()
        for k, v in self.shadow.state_dict().items():
            if v.dtype.is_floating_point:
                v.mul_(self.decay).add_(msd[k].detach(), alpha=1 - self.decay)
            else:
                v.copy_(msd[k])


@torch.no_grad()
def top1(classifier, loader):
    hits = total = 0
    for images, labels in loader:
        images, labels = images.cuda(), labels.cuda()
        hits += (classifier(images).argmax(-1) == labels).sum().item()
        total += labels.numel()
    return hits / total


def soft_ce(logits, soft_targets):
    return torch.sum(-soft_targets * F.log_softmax(logits, dim=-1), dim=-1).mean()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", default="/data/food-101")
    ap.add_argument("--model", default="convnext_tiny.fb_in22k")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--lr", type=float, default=4e-4)
    ap.add_argument("--val-interval", type=int, default=1000)
    args = ap.parse_args()

    backbone = timm.create_model(args.model, pretrained=True, num_classes=101, drop_path_rate=0.2).cuda()
    ema = WeightEMA(backbone)
    cfg = resolve_data_config({}, model=backbone)
    train_ds = create_dataset("", root=args.data_dir, split="train", is_training=True)
    val_ds = create_dataset("", root=args.data_dir, split="validation")
    train_dl = create_loader(train_ds, cfg["input_size"], batch_size=64, is_training=True, auto_augment="rand-m9-mstd0.5")
    val_dl = create_loader(val_ds, cfg["input_size"], batch_size=128, crop_pct=cfg["crop_pct"])
    mixer = Mixup(mixup_alpha=0.8, cutmix_alpha=1.0, label_smoothing=0.1, num_classes=101)
    opt = torch.optim.AdamW(backbone.parameters(), lr=args.lr, weight_decay=0.05)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, args.lr, total_steps=args.epochs * len(train_dl))

    step = 0
    for epoch in range(args.epochs):
        for images, labels in train_dl:
            backbone.train()
            images, soft = mixer(images.cuda(), labels.cuda())
            loss = soft_ce(backbone(images), soft)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            ema.update(backbone)
            step += 1

            if step % args.val_interval == 0:
                backbone.eval()
                acc_raw = top1(backbone, val_dl)
                acc_ema = top1(ema.shadow, val_dl)
                print(f"ep {epoch} step {step}: loss {loss.item():.3f} raw {acc_raw:.4f} ema {acc_ema:.4f}")

    torch.save(ema.shadow.state_dict(), "food101_convnext_t_ema.pth")


if __name__ == "__main__":
    main()
