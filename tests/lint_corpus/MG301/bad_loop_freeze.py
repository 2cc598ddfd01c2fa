import torch
from torch import nn


def train(model, loader, optimizer, epochs):
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.eval()  # expect: MG301
    for epoch in range(epochs):
        model.train()
        for x in loader:
            loss = model(x).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
