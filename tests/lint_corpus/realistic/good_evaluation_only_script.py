"""Evaluate a saved checkpoint: eval mode and no_grad, no training anywhere."""
import sys

import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(20, 64), nn.BatchNorm1d(64), nn.ReLU(), nn.Dropout(0.3), nn.Linear(64, 2))

    def forward(self, x):
        return self.layers(x)


def evaluate(model, loader):
    correct = total = 0
    with torch.no_grad():
        for x, y in loader:
            correct += (model(x).argmax(1) == y).sum().item()
            total += y.numel()
    return correct / max(total, 1)


if __name__ == "__main__":
    net = Net()
    net.load_state_dict(torch.load(sys.argv[1], map_location="cpu"))
    net.eval()
    print(evaluate(net, []))
