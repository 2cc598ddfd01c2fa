from torch import nn


def freeze(net):
    for layer in net.modules():
        if isinstance(layer, nn.BatchNorm1d):
            layer.weight.requires_grad_(False)  # expect: MG302
            layer.bias.requires_grad_(False)
