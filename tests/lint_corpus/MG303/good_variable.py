from torch import nn


def make(momentum):
    return nn.BatchNorm2d(16, momentum=momentum)
