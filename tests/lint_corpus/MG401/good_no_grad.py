import torch


def evaluate(model, loader):
    model.eval()
    with torch.no_grad():
        return [model(x) for x in loader]
