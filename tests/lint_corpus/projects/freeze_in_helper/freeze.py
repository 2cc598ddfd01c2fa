"""Utility for fine-tuning with small batches: keeps BatchNorm running statistics fixed by putting
the BatchNorm layers in eval mode. A later model.train() undoes it, so it must be re-applied."""
import torch.nn as nn


def freeze_bn_running_stats(module):
    for m in module.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.eval()  # expect: MG301
            for p in m.parameters():
                p.requires_grad = False
