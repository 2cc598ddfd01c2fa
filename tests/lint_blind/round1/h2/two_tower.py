"""Sketch-to-photo retrieval with two CNN towers and an InfoNCE loss.

The photo tower is an ImageNet ResNet-18 whose BN statistics we keep; the
sketch tower is initialised from our stage-1 sketch classifier and only its
convolutions are fine-tuned.
"""
import argparse
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.models import resnet18

from sketchdata import PairDataset, build_transforms


def set_bn_eval(module):
    if isinstance(module, nn.modules.batchnorm._BatchNorm):
        module.eval()  # expect: MG301


class Tower(nn.Module):
    def __init__(self, backbone, dim=256):
        super().__init__()
        backbone.fc = nn.Identity()
        self.backbone = backbone
        self.proj = nn.Sequential(nn.Linear(512, 512), nn.ReLU(inplace=True), nn.Linear(512, dim))

    def forward(self, x):
        return F.normalize(self.proj(self.backbone(x)), dim=-1)


class SketchPhotoModel(nn.Module):
    def __init__(self, sketch_ckpt, dim=256, init_temp=0.07):
        super().__init__()
        self.photo = Tower(resnet18(weights="IMAGENET1K_V1"), dim)
        self.photo.backbone.apply(set_bn_eval)

        sketch_net = resnet18(num_classes=250)
        sketch_net.load_state_dict(torch.load(sketch_ckpt, map_location="cpu"))
        self.sketch = Tower(sketch_net, dim)
        for name, param in self.sketch.backbone.named_parameters():
            if "bn" in name or "downsample.1" in name:
                param.requires_grad_(False)  # expect: MG302
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / init_temp)))

    def forward(self, sketches, photos):
        s, p = self.sketch(sketches), self.photo(photos)
        logits = self.logit_scale.exp().clamp(max=100) * s @ p.t()
        target = torch.arange(len(s), device=s.device)
        return (F.cross_entropy(logits, target) + F.cross_entropy(logits.t(), target)) / 2


@torch.no_grad()
def recall_at_k(model, loader, device, k=(1, 10)):
    was_training = model.training
    model.eval()
    S, P = [], []
    for sk, ph in loader:
        S.append(model.sketch(sk.to(device)))
        P.append(model.photo(ph.to(device)))
    sims = torch.cat(S) @ torch.cat(P).t()
    ranks = (sims > sims.diag().unsqueeze(1)).sum(1)
    model.train(was_training)
    return {f"R@{kk}": (ranks < kk).float().mean().item() for kk in k}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--sketch-ckpt", required=True)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--bs", type=int, default=96)
    args = ap.parse_args()

    device = "cuda"
    model = SketchPhotoModel(args.sketch_ckpt).to(device)
    train_dl = torch.utils.data.DataLoader(PairDataset(args.root, "train", build_transforms(True)),
                                           batch_size=args.bs, shuffle=True, num_workers=8, drop_last=True)
    test_dl = torch.utils.data.DataLoader(PairDataset(args.root, "test", build_transforms(False)),
                                          batch_size=256, num_workers=8)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4, weight_decay=0.02)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs * len(train_dl))

    for epoch in range(args.epochs):
        model.train()
        for sk, ph in train_dl:
            loss = model(sk.to(device, non_blocking=True), ph.to(device, non_blocking=True))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
        print(epoch, recall_at_k(model, test_dl, device))
        torch.save(model.state_dict(), "sketch_photo.pt")


if __name__ == "__main__":
    main()
