import torch


def run_eval(model, loader):
    with torch.no_grad():
        return [model(x) for x in loader]


def main(model, loader):
    model.eval()
    run_eval(model, loader)
