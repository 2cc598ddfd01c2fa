"""Fine-tune a pretrained ResNet trunk for cell instance segmentation at batch size 2.

All BatchNorm layers are replaced by a frozen affine version (fixed statistics and
scale/shift held in buffers), which behaves identically in train and eval mode.
"""
import argparse

import torch
import torch.nn as nn
import torchvision

from cellseg.data import build_cell_loaders
from cellseg.heads import MaskHead
from cellseg.eval import mask_ap


class FrozenBatchNorm2d(nn.Module):
    def __init__(self, n, eps=1e-5):
        super().__init__()
        self.eps = eps
        self.register_buffer("weight", torch.ones(n))
        self.register_buffer("bias", torch.zeros(n))
        self.register_buffer("running_mean", torch.zeros(n))
        self.register_buffer("running_var", torch.ones(n))

    def forward(self, x):
        scale = self.weight * (self.running_var + self.eps).rsqrt()
        shift = self.bias - self.running_mean * scale
        return x * scale.view(1, -1, 1, 1) + shift.view(1, -1, 1, 1)

    def extra_repr(self):
        return f"{self.weight.shape[0]}, eps={self.eps}"


def freeze_all_bn(module):
    """Return ``module`` with every BatchNorm2d swapped for FrozenBatchNorm2d (recursive)."""
    if isinstance(module, nn.BatchNorm2d):
        frozen = FrozenBatchNorm2d(module.num_features, module.eps)
        frozen.weight.copy_(module.weight.detach())
        frozen.bias.copy_(module.bias.detach())
        frozen.running_mean.copy_(module.running_mean)
        frozen.running_var.copy_(module.running_var)
        return frozen
    for name, child in module.named_children():
        new_child = freeze_all_bn(child)
        if new_child is not child:
            setattr(module, name, new_child)
    return module


class CellSegNet(nn.Module):
    def __init__(self, n_classes=2):
        super().__init__()
        trunk = torchvision.models.resnet50(weights="IMAGENET1K_V2")
        trunk = freeze_all_bn(trunk)
        self.stem = nn.Sequential(trunk.conv1, trunk.bn1, trunk.relu, trunk.maxpool)
        self.body = nn.Sequential(trunk.layer1, trunk.layer2, trunk.layer3, trunk.layer4)
        self.head = MaskHead(2048, n_classes)
        for p in self.stem.parameters():
            p.requires_grad = False

    def forward(self, x):
        return self.head(self.body(self.stem(x)), out_size=x.shape[-2:])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="data/livecell")
    ap.add_argument("--epochs", type=int, default=24)
    ap.add_argument("--bs", type=int, default=2)
    ap.add_argument("--lr", type=float, default=0.02)
    args = ap.parse_args()

    dev = torch.device("cuda")
    train_dl, val_dl = build_cell_loaders(args.data, args.bs)
    net = CellSegNet().to(dev)
    opt = torch.optim.SGD([p for p in net.parameters() if p.requires_grad], lr=args.lr,
                          momentum=0.9, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, [16, 22], 0.1)

    for epoch in range(args.epochs):
        net.train()
        for img, target in train_dl:
            loss = net.head.loss(net(img.to(dev)), target.to(dev))
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
        net.eval()
        with torch.no_grad():
            ap50 = mask_ap(net, val_dl, dev, iou=0.5)
        print(f"epoch {epoch}: loss {loss.item():.4f} mask AP50 {ap50:.3f}")
    torch.save(net.state_dict(), "cellseg_r50_frozenbn.pth")


if __name__ == "__main__":
    main()
