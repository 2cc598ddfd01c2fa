import torch

from mypkg import Net


def load_for_inference(path):
    model = Net()
    model.load_state_dict(torch.load(path))
    model.eval()
    return model
