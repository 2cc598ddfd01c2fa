"""Fine-tune ResNet-50 on CUB-200 with batch size 8 (one 8 GB card).

With such small batches the BatchNorm statistics of the pretrained network are better than
anything we could estimate, so we keep them fixed and only learn the weights.
"""
import argparse
import os

import torch
import torch.nn as nn
import torchvision
from torch.utils.data import DataLoader
from torchvision import transforms as T


def fix_bn_statistics(net):
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.eval()  # expect: MG301


def build(num_classes):
    net = torchvision.models.resnet50(weights=torchvision.models.ResNet50_Weights.IMAGENET1K_V2)
    net.fc = nn.Sequential(nn.Dropout(0.2), nn.Linear(net.fc.in_features, num_classes))
    return net


def loaders(root, bs):
    norm = T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
    tr = torchvision.datasets.ImageFolder(os.path.join(root, "train"), T.Compose([
        T.RandomResizedCrop(448, scale=(0.35, 1.0)), T.RandomHorizontalFlip(), T.ToTensor(), norm]))
    te = torchvision.datasets.ImageFolder(os.path.join(root, "test"), T.Compose([
        T.Resize(512), T.CenterCrop(448), T.ToTensor(), norm]))
    return (DataLoader(tr, bs, shuffle=True, num_workers=6, drop_last=True),
            DataLoader(te, 32, num_workers=6))


def evaluate(net, loader, device):
    net.eval()
    hit = n = 0
    with torch.no_grad():
        for x, y in loader:
            pred = net(x.to(device)).argmax(1)
            hit += (pred.cpu() == y).sum().item()
            n += y.numel()
    return hit / n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default="data/CUB_200_2011/split")
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--bs", type=int, default=8)
    ap.add_argument("--lr", type=float, default=3e-3)
    args = ap.parse_args()

    device = torch.device("cuda")
    train_loader, test_loader = loaders(args.root, args.bs)
    net = build(200).to(device)
    fix_bn_statistics(net)

    head = list(net.fc.parameters())
    body = [p for n, p in net.named_parameters() if not n.startswith("fc.")]
    opt = torch.optim.SGD([{"params": body, "lr": args.lr * 0.1}, {"params": head, "lr": args.lr}],
                          momentum=0.9, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, args.epochs)
    crit = nn.CrossEntropyLoss(label_smoothing=0.1)

    for epoch in range(args.epochs):
        net.train()
        for i, (x, y) in enumerate(train_loader):
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            loss = crit(net(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if i % 100 == 0:
                print(f"ep {epoch} it {i} loss {loss.item():.3f}")
        sched.step()
        print(f"epoch {epoch}: top1 {evaluate(net, test_loader, device):.4f}")
    torch.save(net.state_dict(), "cub_r50.pth")


if __name__ == "__main__":
    main()
