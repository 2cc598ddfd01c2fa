from torch import nn

bn = nn.BatchNorm2d(64, momentum=0.9)  # expect: MG303
