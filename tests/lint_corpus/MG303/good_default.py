from torch import nn

a = nn.BatchNorm2d(64)
b = nn.BatchNorm2d(64, momentum=0.01)
c = nn.BatchNorm1d(8, momentum=None)
