import torch


def evaluate(net, loader):
    net.eval()  # expect: MG101
    with torch.no_grad():
        return [net(x) for x in loader]
