"""Classic mode bugs, for `modeguard lint` (see demo_5_lint.py). Not meant to be run."""

import torch
import torch.nn.functional as F
from torch import nn


class Classifier(nn.Module):
    def __init__(self, dropout=0.2):
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3)
        self.bn = nn.BatchNorm2d(16, momentum=0.9)
        self.fc = nn.Linear(16, 10)
        self.dropout = dropout

    def forward(self, x):
        x = F.relu(self.bn(self.conv(x))).mean((2, 3))
        x = F.dropout(x, self.dropout)
        return self.fc(x)


model = Classifier()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)


def validate(loader):
    model.eval()
    with torch.no_grad():
        return sum((model(x).argmax(1) == y).sum().item() for x, y in loader)


def test(loader):
    with torch.no_grad():
        return [model(x) for x, _ in loader]


def fit(loader, val_loader, epochs):
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.eval()
    for epoch in range(epochs):
        model.train()
        for step, (x, y) in enumerate(loader):
            loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if step % 200 == 0:
                validate(val_loader)
