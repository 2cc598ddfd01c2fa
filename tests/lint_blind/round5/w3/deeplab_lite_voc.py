"""DeepLab-v3 (light) on Pascal VOC - model and training loop in one file."""
import argparse

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from voc import make_voc_loaders
from backbones import build_backbone
from metrics import Evaluator


class ASPP(nn.Module):
    def __init__(self, cin, cout=256, rates=(6, 12, 18)):
        super().__init__()
        self.branches = nn.ModuleList(
            [nn.Sequential(nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU())] +
            [nn.Sequential(nn.Conv2d(cin, cout, 3, padding=r, dilation=r, bias=False),
                           nn.BatchNorm2d(cout), nn.ReLU()) for r in rates])
        self.pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(cin, cout, 1, bias=False),
                                  nn.BatchNorm2d(cout), nn.ReLU())
        self.project = nn.Sequential(nn.Conv2d(cout * (len(rates) + 2), cout, 1, bias=False),
                                     nn.BatchNorm2d(cout), nn.ReLU(), nn.Dropout(0.5))

    def forward(self, x):
        outs = [b(x) for b in self.branches]
        outs.append(F.interpolate(self.pool(x), size=x.shape[2:], mode="bilinear", align_corners=True))
        return self.project(torch.cat(outs, dim=1))


class DeepLabLite(nn.Module):
    def __init__(self, backbone="resnet50", num_classes=21, output_stride=16, freeze_bn=False):
        super().__init__()
        self.backbone = build_backbone(backbone, output_stride)
        self.aspp = ASPP(self.backbone.out_channels)
        self.classifier = nn.Conv2d(256, num_classes, 1)
        self.freeze_bn = freeze_bn  # expect: MG104

    def forward(self, x):
        size = x.shape[2:]
        feats = self.backbone(x)
        return F.interpolate(self.classifier(self.aspp(feats)), size=size, mode="bilinear",
                             align_corners=True)

    def freeze_bn(self):
        for m in self.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.eval()

    def get_1x_lr_params(self):
        return (p for p in self.backbone.parameters() if p.requires_grad)

    def get_10x_lr_params(self):
        mods = [self.aspp, self.classifier]
        return (p for m in mods for p in m.parameters() if p.requires_grad)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--backbone", default="resnet50")
    ap.add_argument("--lr", type=float, default=0.007)
    ap.add_argument("--epochs", type=int, default=50)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--freeze-bn", action="store_true")
    args = ap.parse_args()

    train_loader, val_loader, nclass = make_voc_loaders(args.batch_size)
    model = DeepLabLite(args.backbone, nclass, freeze_bn=args.freeze_bn).cuda()
    if args.freeze_bn:
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.requires_grad_(False)  # expect: MG302
    optimizer = torch.optim.SGD(
        [{"params": model.get_1x_lr_params(), "lr": args.lr},
         {"params": model.get_10x_lr_params(), "lr": args.lr * 10}],
        momentum=0.9, weight_decay=5e-4, nesterov=False)
    criterion = nn.CrossEntropyLoss(ignore_index=255)
    evaluator = Evaluator(nclass)
    max_iter = args.epochs * len(train_loader)

    it = 0
    for epoch in range(args.epochs):
        model.train()
        for image, target in train_loader:
            lr = args.lr * (1 - it / max_iter) ** 0.9
            optimizer.param_groups[0]["lr"], optimizer.param_groups[1]["lr"] = lr, lr * 10
            loss = criterion(model(image.cuda()), target.cuda().long())
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            it += 1

        model.eval()
        evaluator.reset()
        with torch.no_grad():
            for image, target in val_loader:
                pred = model(image.cuda()).argmax(1).cpu().numpy()
                evaluator.add_batch(target.numpy(), pred)
        miou = evaluator.Mean_Intersection_over_Union()
        print(f"epoch {epoch}: mIoU {miou:.4f}  pixAcc {evaluator.Pixel_Accuracy():.4f}")
        np.save(f"confusion_{epoch}.npy", evaluator.confusion_matrix)


if __name__ == "__main__":
    main()
