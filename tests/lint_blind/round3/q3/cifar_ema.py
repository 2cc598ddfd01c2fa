"""WideResNet-28-10 on CIFAR-100 with weight EMA (reports raw and EMA accuracy)."""
import argparse
import copy
import json
import os

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
import torchvision.transforms as T

from nets.wrn import WideResNet  # BN + dropout between convs


class WeightEMA:
    def __init__(self, model, decay=0.999, warmup=2000):
        self.shadow = copy.deepcopy(model)
        for p in self.shadow.parameters():
            p.requires_grad_(False)
        self.decay = decay
        self.warmup = warmup
        self.updates = 0

    @torch.no_grad()
    def update(self, model):
        self.updates += 1
        d = min(self.decay, (1 + self.updates) / (self.warmup + self.updates))
        src = model.state_dict()
        for k, v in self.shadow.state_dict().items():
            if v.dtype.is_floating_point:
                v.mul_(d).add_(src[k].detach(), alpha=1 - d)
            else:
                v.copy_(src[k])


def loaders(root, bs):
    mean, std = (0.507, 0.487, 0.441), (0.267, 0.256, 0.276)
    tr = T.Compose([T.RandomCrop(32, padding=4), T.RandomHorizontalFlip(), T.ToTensor(),
                    T.Normalize(mean, std)])
    te = T.Compose([T.ToTensor(), T.Normalize(mean, std)])
    train = torchvision.datasets.CIFAR100(root, train=True, transform=tr, download=True)
    test = torchvision.datasets.CIFAR100(root, train=False, transform=te, download=True)
    return (torch.utils.data.DataLoader(train, bs, shuffle=True, num_workers=4, drop_last=True),
            torch.utils.data.DataLoader(test, 512, shuffle=False, num_workers=4))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default="./data")
    ap.add_argument("--epochs", type=int, default=200)
    ap.add_argument("--bs", type=int, default=128)
    ap.add_argument("--ema", type=float, default=0.999)
    ap.add_argument("--out", default="runs/wrn_ema")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    dev = "cuda"
    net = WideResNet(depth=28, widen=10, num_classes=100, drop=0.3).to(dev)
    ema = WeightEMA(net, decay=args.ema)
    train_dl, test_dl = loaders(args.root, args.bs)
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4,
                          nesterov=True)
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, [60, 120, 160], gamma=0.2)

    log = []
    for ep in range(args.epochs):
        net.train()
        for x, y in train_dl:
            x, y = x.to(dev, non_blocking=True), y.to(dev, non_blocking=True)
            loss = F.cross_entropy(net(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            ema.update(net)
        sched.step()

        net.eval()
        raw_ok = ema_ok = n = 0
        with torch.no_grad():
            for x, y in test_dl:
                x, y = x.to(dev), y.to(dev)
                raw_ok += (net(x).argmax(1) == y).sum().item()
                ema_ok += (ema.shadow(x).argmax(1) == y).sum().item()  # expect: MG102
                n += y.numel()
        log.append({"epoch": ep, "acc": raw_ok / n, "ema_acc": ema_ok / n})
        print(json.dumps(log[-1]))
        torch.save({"net": net.state_dict(), "ema": ema.shadow.state_dict()},
                   os.path.join(args.out, "last.pt"))


if __name__ == "__main__":
    main()
