import torch


def evaluate(net, loader):
    net.eval()
    with torch.no_grad():
        return [net(x) for x in loader]


def evaluate_restoring(net, loader):
    was = net.training
    net.eval()
    with torch.no_grad():
        out = [net(x) for x in loader]
    net.train(was)
    return out
