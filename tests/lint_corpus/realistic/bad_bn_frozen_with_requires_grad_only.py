"""Molecular property model fine-tuned with its batch norm 'frozen' through requires_grad."""
import torch.nn as nn


class FFN(nn.Module):
    def __init__(self, hidden=300):
        super().__init__()
        self.bn = nn.BatchNorm1d(hidden)
        self.layers = nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, x):
        return self.layers(self.bn(x))


def freeze_encoder(model):
    for module in model.modules():
        if isinstance(module, nn.BatchNorm1d):
            module.requires_grad_(False)  # expect: MG302
