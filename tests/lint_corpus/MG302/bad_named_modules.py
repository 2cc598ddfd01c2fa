import torch.nn as nn


def setup(model):
    for name, module in model.named_modules():
        if isinstance(module, nn.SyncBatchNorm):
            module.weight.requires_grad = False  # expect: MG302
            module.bias.requires_grad = False
    return model
