"""Semantic segmentation: validation keeps the autograd graph of every batch alive."""
import torch
import torch.nn as nn


class PSPNet(nn.Module):
    def __init__(self, classes=21):
        super().__init__()
        self.layer0 = nn.Sequential(nn.Conv2d(3, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU())
        self.cls = nn.Sequential(nn.Dropout2d(p=0.1), nn.Conv2d(64, classes, 1))

    def forward(self, x):
        return self.cls(self.layer0(x))


def train(train_loader, model, criterion, optimizer, epoch):
    model.train()
    for i, (input, target) in enumerate(train_loader):
        output = model(input)
        loss = criterion(output, target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def validate(val_loader, model, criterion):
    model.eval()
    losses = []
    for i, (input, target) in enumerate(val_loader):
        output = model(input)  # expect: MG401
        losses.append(criterion(output, target))
    return sum(losses) / len(losses)


def main(epochs=100):
    model = PSPNet()
    criterion = nn.CrossEntropyLoss(ignore_index=255)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    for epoch in range(epochs):
        train([], model, criterion, optimizer, epoch)
        validate([], model, criterion)
