"""Fine-tune an ASPP segmentation head on a small medical dataset.

Batch size is 4 on one GPU, so by default the pretrained BatchNorm statistics
are kept fixed (``--freeze-bn``).
"""
import argparse

import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.models import resnet50, ResNet50_Weights

from medseg.data import make_loaders
from medseg.metrics import dice_per_class


class ASPP(nn.Module):
    def __init__(self, cin, cout, rates=(6, 12, 18)):
        super().__init__()
        branches = [nn.Sequential(nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))]
        for r in rates:
            branches.append(nn.Sequential(
                nn.Conv2d(cin, cout, 3, padding=r, dilation=r, bias=False),
                nn.BatchNorm2d(cout), nn.ReLU(inplace=True)))
        self.branches = nn.ModuleList(branches)
        self.project = nn.Sequential(
            nn.Conv2d(cout * len(branches), cout, 1, bias=False), nn.BatchNorm2d(cout),
            nn.ReLU(inplace=True), nn.Dropout(0.5))

    def forward(self, x):
        return self.project(torch.cat([b(x) for b in self.branches], dim=1))


class DilatedSegNet(nn.Module):
    def __init__(self, num_classes, freeze_bn=False):
        super().__init__()
        r = resnet50(weights=ResNet50_Weights.IMAGENET1K_V2,
                     replace_stride_with_dilation=[False, True, True])
        self.stem = nn.Sequential(r.conv1, r.bn1, r.relu, r.maxpool)
        self.body = nn.Sequential(r.layer1, r.layer2, r.layer3, r.layer4)
        self.aspp = ASPP(2048, 256)
        self.cls = nn.Conv2d(256, num_classes, 1)
        self.bn_frozen = freeze_bn
        if freeze_bn:
            self._fix_norm_layers()

    def _fix_norm_layers(self):
        for m in self.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.eval()  # expect: MG301

    def forward(self, x):
        size = x.shape[-2:]
        y = self.cls(self.aspp(self.body(self.stem(x))))
        return F.interpolate(y, size=size, mode="bilinear", align_corners=False)


def one_epoch(net, loader, optimizer, device, epoch, log_every=20):
    net.train()
    for i, (img, mask) in enumerate(loader):
        img, mask = img.to(device), mask.to(device)
        loss = F.cross_entropy(net(img), mask, ignore_index=255)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if i % log_every == 0:
            print(f"[{epoch}:{i}] ce={loss.item():.4f}")


@torch.no_grad()
def dice_on(net, loader, device, num_classes):
    net.eval()
    scores = []
    for img, mask in loader:
        pred = net(img.to(device)).argmax(1).cpu()
        scores.append(dice_per_class(pred, mask, num_classes))
    return torch.stack(scores).mean(0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--num-classes", type=int, default=4)
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--lr", type=float, default=0.007)
    ap.add_argument("--freeze-bn", action="store_true", default=True)
    args = ap.parse_args()

    device = torch.device("cuda")
    net = DilatedSegNet(args.num_classes, freeze_bn=args.freeze_bn).to(device)
    params = [
        {"params": list(net.stem.parameters()) + list(net.body.parameters()), "lr": args.lr},
        {"params": list(net.aspp.parameters()) + list(net.cls.parameters()), "lr": args.lr * 10},
    ]
    optimizer = torch.optim.SGD(params, momentum=0.9, weight_decay=1e-4)
    train_loader, val_loader = make_loaders(args.root, batch_size=4)

    best = 0.0
    for epoch in range(args.epochs):
        one_epoch(net, train_loader, optimizer, device, epoch)
        dice = dice_on(net, val_loader, device, args.num_classes)
        print("epoch", epoch, "dice", [round(d, 4) for d in dice.tolist()])
        if dice[1:].mean() > best:
            best = dice[1:].mean().item()
            torch.save(net.state_dict(), "aspp_best.pth")


if __name__ == "__main__":
    main()
