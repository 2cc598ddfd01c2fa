from torch import nn


def freeze_convs(model):
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            for p in m.parameters():
                p.requires_grad = False
