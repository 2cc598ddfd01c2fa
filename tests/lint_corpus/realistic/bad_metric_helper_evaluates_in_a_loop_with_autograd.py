"""A metric helper switches the model to eval mode and loops over the validation data, but
keeps autograd on: every batch's graph is built for nothing. The final test after training
does the same."""
import torch
from torch import nn


def macro_recall(net, loader):
    net.eval()
    hits = torch.zeros(10)
    for x, y in loader:
        pred = net(x).argmax(1)  # expect: MG401
        hits += torch.bincount(pred[pred == y], minlength=10)
    return hits.mean().item()


def train(net, train_loader, val_loader, test_x, epochs=5):
    optimizer = torch.optim.SGD(net.parameters(), lr=0.01)
    for _ in range(epochs):
        net.train()
        for x, y in train_loader:
            loss = nn.functional.cross_entropy(net(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        print(macro_recall(net, val_loader))
    net.eval()
    return net(test_x)  # expect: MG401
