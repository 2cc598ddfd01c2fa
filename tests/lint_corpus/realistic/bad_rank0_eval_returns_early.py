"""Distributed classifier training with a mid-epoch evaluation hook that only rank 0 performs.

The hook switches the network to eval mode first and then bails out on every other rank before
reaching its net.train(), so those ranks keep training with BatchNorm and Dropout in eval mode.
"""
import os

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel as DDP

from imagenet_data import build_loaders


class ConvClassifier(nn.Module):
    def __init__(self, n_classes=100):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(3, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(),
            nn.Conv2d(64, 128, 3, padding=1), nn.BatchNorm2d(128), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        )
        self.head = nn.Sequential(nn.Dropout(0.3), nn.Linear(128, n_classes))

    def forward(self, x):
        return self.head(self.body(x))


def evaluate(net, loader, rank):
    net.eval()  # expect: MG101
    if rank != 0:
        return None
    correct = total = 0
    with torch.no_grad():
        for images, labels in loader:
            preds = net(images.cuda(rank)).argmax(dim=1)
            correct += (preds == labels.cuda(rank)).sum().item()
            total += labels.numel()
    net.train()
    return correct / max(total, 1)


def train(net, optimizer, train_loader, val_loader, rank, epochs, eval_every=500):
    step = 0
    for epoch in range(epochs):
        train_loader.sampler.set_epoch(epoch)
        net.train()
        for images, labels in train_loader:
            logits = net(images.cuda(rank))
            loss = F.cross_entropy(logits, labels.cuda(rank))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step += 1
            if step % eval_every == 0:
                acc = evaluate(net, val_loader, rank)
                if acc is not None:
                    print(f"epoch {epoch} step {step} top1 {acc:.4f}")


def main():
    dist.init_process_group("nccl")
    rank = int(os.environ["LOCAL_RANK"])
    torch.cuda.set_device(rank)
    net = DDP(ConvClassifier().cuda(rank), device_ids=[rank])
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    train_loader, val_loader = build_loaders(rank)
    train(net, optimizer, train_loader, val_loader, rank, epochs=90)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
