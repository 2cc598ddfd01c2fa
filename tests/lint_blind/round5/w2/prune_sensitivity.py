"""Iterative global magnitude pruning of a keyword-spotting DS-CNN.

Each iteration removes a fraction of the remaining conv/linear weights, fine-tunes for a few
hundred steps and records the accuracy on the validation split.
"""
import argparse
import copy
import csv
import itertools

import torch
import torch.nn as nn
import torch.nn.utils.prune as prune

from kws.data import SpeechCommandsMFCC


class DSConv(nn.Sequential):
    def __init__(self, ch):
        super().__init__(
            nn.Conv2d(ch, ch, 3, padding=1, groups=ch, bias=False), nn.BatchNorm2d(ch), nn.ReLU(),
            nn.Conv2d(ch, ch, 1, bias=False), nn.BatchNorm2d(ch), nn.ReLU())


class DSCNN(nn.Module):
    def __init__(self, n_classes=12, ch=64, n_blocks=4):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, ch, (10, 4), stride=(2, 2), padding=(5, 1), bias=False),
                                  nn.BatchNorm2d(ch), nn.ReLU())
        self.blocks = nn.Sequential(*[DSConv(ch) for _ in range(n_blocks)])
        self.drop = nn.Dropout(0.2)
        self.fc = nn.Linear(ch, n_classes)

    def forward(self, mfcc):
        h = self.blocks(self.stem(mfcc)).mean(dim=(2, 3))
        return self.fc(self.drop(h))


def prunable(net):
    return [(m, "weight") for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


def sparsity(net):
    zeros = total = 0
    for m, name in prunable(net):
        w = getattr(m, name)
        zeros += int((w == 0).sum())
        total += w.numel()
    return zeros / total


def measure(net, loader, device):
    net.train(False)  # expect: MG101
    right = seen = 0
    with torch.no_grad():
        for mfcc, label in loader:
            pred = net(mfcc.to(device)).argmax(-1)
            right += (pred.cpu() == label).sum().item()
            seen += label.numel()
    return right / seen


def finetune(net, batches, opt, steps, device):
    ce = nn.CrossEntropyLoss(label_smoothing=0.05)
    for mfcc, label in itertools.islice(batches, steps):
        loss = ce(net(mfcc.to(device)), label.to(device))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return loss.item()


def cycle(loader):
    while True:
        yield from loader


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", default="dscnn_dense.pt")
    ap.add_argument("--iterations", type=int, default=8)
    ap.add_argument("--amount", type=float, default=0.2)
    ap.add_argument("--ft-steps", type=int, default=400)
    args = ap.parse_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"

    net = DSCNN().to(device)
    net.load_state_dict(torch.load(args.ckpt, map_location=device))
    train_batches = cycle(torch.utils.data.DataLoader(SpeechCommandsMFCC("train"), batch_size=100, shuffle=True))
    val_loader = torch.utils.data.DataLoader(SpeechCommandsMFCC("validation"), batch_size=500)
    opt = torch.optim.SGD(net.parameters(), lr=5e-3, momentum=0.9, nesterov=True)

    rows = []
    best_state = None
    net.train()
    for it in range(args.iterations):
        prune.global_unstructured(prunable(net), pruning_method=prune.L1Unstructured, amount=args.amount)
        last_loss = finetune(net, train_batches, opt, args.ft_steps, device)
        acc = measure(net, val_loader, device)
        rows.append((it, round(sparsity(net), 4), round(acc, 4), round(last_loss, 4)))
        print("iter %d sparsity %.3f val acc %.4f" % rows[-1][:3])
        if acc >= 0.9:
            best_state = copy.deepcopy(net.state_dict())

    with open("prune_curve.csv", "w", newline="") as fh:
        csv.writer(fh).writerows([("iter", "sparsity", "val_acc", "loss")] + rows)
    if best_state is not None:
        net.load_state_dict(best_state)
    for m, name in prunable(net):
        if prune.is_pruned(m):
            prune.remove(m, name)
    torch.save(net.state_dict(), "dscnn_pruned.pt")


if __name__ == "__main__":
    main()
