import torch


def validate(model, loader):
    model.eval()  # expect: MG103
    with torch.no_grad():
        return [model(x) for x in loader]
