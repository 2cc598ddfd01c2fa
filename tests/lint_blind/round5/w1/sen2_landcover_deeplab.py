#!/usr/bin/env python
# Land-cover segmentation on Sentinel-2 L2A patches (13 bands, 10 classes)
# DeepLabV3-ResNet50, ImageNet init, first conv widened to 13 channels.
import argparse, os, time
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader
from torchvision.models.segmentation import deeplabv3_resnet50

from s2data import S2PatchDataset, band_stats
from metrics import ConfusionMatrix

ap = argparse.ArgumentParser()
ap.add_argument('--root', default='/data/s2_landcover')
ap.add_argument('--bs', type=int, default=4)
ap.add_argument('--epochs', type=int, default=80)
ap.add_argument('--lr', type=float, default=0.01)
ap.add_argument('--ckpt', default='ckpt/deeplab_s2.pth')
args = ap.parse_args()

dev = 'cuda'
mean, std = band_stats(args.root)
train_ds = S2PatchDataset(args.root, 'train', mean, std, augment=True)
val_ds = S2PatchDataset(args.root, 'val', mean, std)
train_dl = DataLoader(train_ds, batch_size=args.bs, shuffle=True, num_workers=6, drop_last=True)
val_dl = DataLoader(val_ds, batch_size=8, num_workers=4)

model = deeplabv3_resnet50(weights_backbone='IMAGENET1K_V1', num_classes=10, aux_loss=True)
old = model.backbone.conv1
new = nn.Conv2d(13, 64, 7, 2, 3, bias=False)
with torch.no_grad():
    w = old.weight.mean(1, keepdim=True)
    new.weight.copy_(w.repeat(1, 13, 1, 1) * 3 / 13)
model.backbone.conv1 = new

# batch of 4 is far too small for BN statistics -> keep the ImageNet running stats
for m in model.backbone.modules():
    if isinstance(m, nn.BatchNorm2d):
        m.eval()  # expect: MG301
model = model.to(dev)

params = [{'params': model.backbone.parameters(), 'lr': args.lr},
          {'params': model.classifier.parameters(), 'lr': args.lr * 10},
          {'params': model.aux_classifier.parameters(), 'lr': args.lr * 10}]
opt = torch.optim.SGD(params, momentum=0.9, weight_decay=1e-4)
iters = args.epochs * len(train_dl)
sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda it: (1 - it / iters) ** 0.9)
ignore = 255


def evaluate():
    model.eval()
    cm = ConfusionMatrix(10)
    with torch.no_grad():
        for img, lbl in val_dl:
            out = model(img.to(dev))['out']
            cm.update(lbl.numpy(), out.argmax(1).cpu().numpy(), ignore=ignore)
    return cm.miou(), cm.overall_accuracy()


best = 0
for ep in range(args.epochs):
    model.train()
    t0 = time.time()
    for it, (img, lbl) in enumerate(train_dl):
        img, lbl = img.to(dev), lbl.to(dev)
        out = model(img)
        loss = F.cross_entropy(out['out'], lbl, ignore_index=ignore) \
            + 0.4 * F.cross_entropy(out['aux'], lbl, ignore_index=ignore)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if it % 100 == 0:
            print('ep %d it %d loss %.4f lr %.5f' % (ep, it, loss.item(), opt.param_groups[0]['lr']))
    miou, oa = evaluate()
    print('== ep %d  mIoU %.4f  OA %.4f  (%.0fs)' % (ep, miou, oa, time.time() - t0))
    if miou > best:
        best = miou
        os.makedirs(os.path.dirname(args.ckpt), exist_ok=True)
        torch.save(model.state_dict(), args.ckpt)
