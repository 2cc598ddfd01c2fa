"""Fine-tune Faster R-CNN (ResNet-50 FPN) on a small drone dataset.

Batches are 2 images, so the backbone BatchNorm layers are kept in inference
mode for the whole run; the wrapper below re-applies that after every
``train()`` call so the runner's mode switches cannot undo it.
"""
import argparse
import math

import torch
import torch.nn as nn
from torchmetrics.detection import MeanAveragePrecision
from torchvision.models import resnet50, ResNet50_Weights
from torchvision.models.detection import FasterRCNN
from torchvision.models.detection.backbone_utils import _resnet_fpn_extractor

from drone_data import DroneDetection, collate


class BNFrozenDetector(nn.Module):
    def __init__(self, num_classes):
        super().__init__()
        trunk = resnet50(weights=ResNet50_Weights.IMAGENET1K_V2, norm_layer=nn.BatchNorm2d)
        self.det = FasterRCNN(_resnet_fpn_extractor(trunk, trainable_layers=3), num_classes=num_classes)
        for m in self.det.backbone.body.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.requires_grad_(False)
                m.bias.requires_grad_(False)
        self._freeze_bn()

    def _freeze_bn(self):
        for m in self.det.backbone.body.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.eval()

    def train(self, mode=True):
        super().train(mode)
        if mode:
            self._freeze_bn()
        return self

    def forward(self, images, targets=None):
        return self.det(images, targets)


def run_epoch(model, loader, opt, device, epoch, warmup_iters=500):
    model.train()
    for i, (imgs, tgts) in enumerate(loader):
        it = epoch * len(loader) + i
        if it < warmup_iters:
            for g in opt.param_groups:
                g["lr"] = g["initial_lr"] * (0.001 + 0.999 * it / warmup_iters)
        imgs = [im.to(device) for im in imgs]
        tgts = [{k: v.to(device) for k, v in t.items()} for t in tgts]
        loss_dict = model(imgs, tgts)
        loss = sum(loss_dict.values())
        if not math.isfinite(loss.item()):
            raise RuntimeError(f"loss is {loss.item()}, stopping")
        opt.zero_grad()
        loss.backward()
        opt.step()


@torch.no_grad()
def score(model, loader, device):
    model.eval()
    metric = MeanAveragePrecision(iou_type="bbox")
    for imgs, tgts in loader:
        preds = model([im.to(device) for im in imgs])
        metric.update([{k: v.cpu() for k, v in p.items()} for p in preds], tgts)
    return metric.compute()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default="/data/visdrone")
    ap.add_argument("--epochs", type=int, default=24)
    ap.add_argument("--lr", type=float, default=0.01)
    args = ap.parse_args()
    device = torch.device("cuda")

    train_dl = torch.utils.data.DataLoader(DroneDetection(args.root, "train", augment=True), 2,
                                           shuffle=True, num_workers=4, collate_fn=collate)
    val_dl = torch.utils.data.DataLoader(DroneDetection(args.root, "val"), 4, num_workers=4,
                                         collate_fn=collate)
    model = BNFrozenDetector(num_classes=11).to(device)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.SGD(params, lr=args.lr, momentum=0.9, weight_decay=1e-4)
    for g in opt.param_groups:
        g.setdefault("initial_lr", g["lr"])
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, [16, 22], 0.1)
    for epoch in range(args.epochs):
        run_epoch(model, train_dl, opt, device, epoch)
        sched.step()
        stats = score(model, val_dl, device)
        print(f"epoch {epoch}: mAP {stats['map']:.4f}  mAP50 {stats['map_50']:.4f}")
    torch.save(model.state_dict(), "frcnn_visdrone.pth")


if __name__ == "__main__":
    main()
