"""Transfer a Barlow Twins ResNet-50 to semantic segmentation (FCN head).

Small batches (2 crops per GPU), so BN is frozen in the backbone by default.
"""
import argparse

import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.models import resnet50

from segdata import build_voc_loaders, ConfusionMatrix


class BarlowFCN(nn.Module):
    def __init__(self, num_classes, ckpt=None, freeze_bn=True):
        super().__init__()
        trunk = resnet50(replace_stride_with_dilation=[False, True, True])
        if ckpt is not None:
            missing, _ = trunk.load_state_dict(torch.load(ckpt, map_location="cpu"), strict=False)
            print("missing keys:", missing)
        self.backbone = nn.Sequential(*list(trunk.children())[:-2])
        self.head = nn.Sequential(
            nn.Conv2d(2048, 512, 3, padding=1, bias=False),
            nn.BatchNorm2d(512),
            nn.ReLU(inplace=True),
            nn.Dropout2d(0.1),
            nn.Conv2d(512, num_classes, 1),
        )
        self.freeze_bn = freeze_bn  # expect: MG104
        if freeze_bn:
            for m in self.backbone.modules():
                if isinstance(m, nn.BatchNorm2d):
                    for p in m.parameters():
                        p.requires_grad = False  # expect: MG302

    def freeze_bn(self):
        for m in self.backbone.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.eval()

    def forward(self, x):
        size = x.shape[-2:]
        return F.interpolate(self.head(self.backbone(x)), size=size, mode="bilinear", align_corners=False)


def evaluate(net, loader, num_classes, device):
    cm = ConfusionMatrix(num_classes)
    net.eval()
    with torch.no_grad():
        for img, target in loader:
            out = net(img.to(device))
            cm.update(target.flatten(), out.argmax(1).cpu().flatten())
    return cm.miou()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--voc-root", required=True)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--no-freeze-bn", action="store_true")
    args = ap.parse_args()

    device = torch.device("cuda")
    train_loader, val_loader = build_voc_loaders(args.voc_root, batch_size=4, crop=512)
    net = BarlowFCN(21, args.ckpt, freeze_bn=not args.no_freeze_bn).to(device)
    opt = torch.optim.SGD([p for p in net.parameters() if p.requires_grad], lr=args.lr,
                          momentum=0.9, weight_decay=1e-4)
    total = args.epochs * len(train_loader)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda it: (1 - it / total) ** 0.9)

    for epoch in range(args.epochs):
        net.train()
        for img, target in train_loader:
            logits = net(img.to(device))
            loss = F.cross_entropy(logits, target.to(device), ignore_index=255)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        miou = evaluate(net, val_loader, 21, device)
        print(f"epoch {epoch}: loss {loss.item():.3f} mIoU {miou:.4f}")
    torch.save(net.state_dict(), "barlow_fcn_voc.pth")


if __name__ == "__main__":
    main()
