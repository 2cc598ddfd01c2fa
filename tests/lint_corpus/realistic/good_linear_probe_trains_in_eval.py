"""Linear evaluation of a self-supervised backbone: train() puts the whole model in eval once,
before its loop, on purpose (only the linear head learns and the backbone's BatchNorm
statistics must not move); nothing ever calls model.train()."""
import torch
import torch.nn as nn


def build():
    backbone = nn.Sequential(nn.Conv2d(3, 16, 3), nn.BatchNorm2d(16), nn.ReLU(),
                             nn.AdaptiveAvgPool2d(1), nn.Flatten())
    return nn.Sequential(backbone, nn.Linear(16, 10))


def train(loader, model, criterion, optimizer):
    model.eval()  # the frozen-backbone protocol: BatchNorm must not update
    for images, target in loader:
        loss = criterion(model(images), target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def main(loader, epochs):
    model = build()
    for p in model[0].parameters():
        p.requires_grad = False
    optimizer = torch.optim.SGD(model[1].parameters(), lr=0.1)
    for epoch in range(epochs):
        train(loader, model, nn.CrossEntropyLoss(), optimizer)
