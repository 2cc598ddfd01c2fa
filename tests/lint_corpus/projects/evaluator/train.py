import torch

from evaluation import evaluate


def fit(net, optimizer, loader, epochs):
    net.train()
    for epoch in range(epochs):
        for step, x in enumerate(loader):
            loss = net(x).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if step % 100 == 0:
                evaluate(net, loader)
