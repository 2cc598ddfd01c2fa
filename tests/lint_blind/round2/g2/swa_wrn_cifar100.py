"""WideResNet-28-10 on CIFAR-100 with stochastic weight averaging in the last 25% of epochs."""
import argparse

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.optim.swa_utils import AveragedModel, SWALR, update_bn

from wrn import WideResNet
from cifar import get_loaders


def run_eval(net, loader, device):
    net.eval()
    nll, correct, count = 0.0, 0, 0
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        out = net(x)  # expect: MG401
        nll += F.cross_entropy(out, y, reduction="sum").item()
        correct += (out.argmax(1) == y).sum().item()
        count += y.size(0)
    return nll / count, correct / count


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=200)
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--swa-lr", type=float, default=0.05)
    ap.add_argument("--swa-start", type=float, default=0.75)
    ap.add_argument("--wd", type=float, default=5e-4)
    args = ap.parse_args()
    device = "cuda"

    train_loader, test_loader = get_loaders("cifar100", batch_size=128)
    net = WideResNet(depth=28, widen_factor=10, num_classes=100, dropout=0.3).to(device)
    swa_net = AveragedModel(net)
    opt = torch.optim.SGD(net.parameters(), lr=args.lr, momentum=0.9, weight_decay=args.wd, nesterov=True)
    swa_start = int(args.swa_start * args.epochs)
    base_sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=swa_start)
    swa_sched = SWALR(opt, swa_lr=args.swa_lr, anneal_epochs=5)
    criterion = nn.CrossEntropyLoss()

    for epoch in range(args.epochs):
        net.train()
        for x, y in train_loader:
            x, y = x.to(device), y.to(device)
            loss = criterion(net(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        if epoch >= swa_start:
            swa_net.update_parameters(net)
            swa_sched.step()
        else:
            base_sched.step()

        test_nll, test_acc = run_eval(net, test_loader, device)
        print(f"[{epoch:3d}] sgd  nll {test_nll:.3f} acc {test_acc:.4f}")

    update_bn(train_loader, swa_net, device=device)
    swa_nll, swa_acc = run_eval(swa_net, test_loader, device)
    print(f"final swa nll {swa_nll:.3f} acc {swa_acc:.4f}")
    torch.save(swa_net.module.state_dict(), "wrn28x10_swa.pt")


if __name__ == "__main__":
    main()
