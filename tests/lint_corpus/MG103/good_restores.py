import torch


def validate(model, loader):
    was = model.training
    model.eval()
    with torch.no_grad():
        out = [model(x) for x in loader]
    model.train(was)
    return out
