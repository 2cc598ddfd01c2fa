"""Pool-based active learning on CIFAR-10 with max-entropy acquisition.

Each round: fine-tune on the labeled set, report test accuracy, then score
the unlabeled pool and move the top-k most uncertain images to the labeled set.
"""
import argparse
import json
import random

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Subset
from torchvision import datasets, transforms
from torchvision.models import resnet18


def cifar_resnet(num_classes=10):
    net = resnet18(num_classes=num_classes)
    net.conv1 = torch.nn.Conv2d(3, 64, 3, 1, 1, bias=False)
    net.maxpool = torch.nn.Identity()
    return net


def fit_round(net, loader, optimizer, epochs, device):
    for _ in range(epochs):
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            loss = F.cross_entropy(net(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def test_accuracy(net, loader, device):
    was_training = net.training
    net.eval()
    correct = total = 0
    with torch.no_grad():
        for x, y in loader:
            pred = net(x.to(device)).argmax(1).cpu()
            correct += (pred == y).sum().item()
            total += y.numel()
    net.train(was_training)
    return correct / total


def entropy_scores(net, loader, device):
    net.eval()  # expect: MG101
    out = []
    with torch.no_grad():
        for x, _ in loader:
            p = F.softmax(net(x.to(device)), dim=1)
            out.append(-(p * torch.log(p + 1e-12)).sum(1).cpu())
    return torch.cat(out).numpy()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--init", type=int, default=1000)
    ap.add_argument("--budget", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    device = "cuda"

    norm = transforms.Normalize((0.4914, 0.4822, 0.4465), (0.247, 0.243, 0.261))
    aug = transforms.Compose([transforms.RandomCrop(32, 4), transforms.RandomHorizontalFlip(),
                              transforms.ToTensor(), norm])
    plain = transforms.Compose([transforms.ToTensor(), norm])
    train_aug = datasets.CIFAR10("data", train=True, transform=aug)
    train_plain = datasets.CIFAR10("data", train=True, transform=plain)
    test_set = datasets.CIFAR10("data", train=False, transform=plain)
    test_loader = DataLoader(test_set, batch_size=512, num_workers=4)

    indices = np.random.permutation(len(train_aug))
    labeled, unlabeled = list(indices[:args.init]), list(indices[args.init:])

    net = cifar_resnet().to(device)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    history = []
    for rnd in range(args.rounds):
        lab_loader = DataLoader(Subset(train_aug, labeled), batch_size=128, shuffle=True,
                                num_workers=4, drop_last=len(labeled) > 128)
        fit_round(net, lab_loader, optimizer, args.epochs, device)
        acc = test_accuracy(net, test_loader, device)
        history.append({"round": rnd, "labeled": len(labeled), "acc": acc})
        print(json.dumps(history[-1]))

        pool_loader = DataLoader(Subset(train_plain, unlabeled), batch_size=512, num_workers=4)
        scores = entropy_scores(net, pool_loader, device)
        pick = set(np.argsort(-scores)[:args.budget].tolist())
        labeled += [unlabeled[i] for i in pick]
        unlabeled = [u for i, u in enumerate(unlabeled) if i not in pick]

    with open("al_history.json", "w") as f:
        json.dump(history, f, indent=1)


if __name__ == "__main__":
    main()
