from torch import nn


class Detector(nn.Module):
    def __init__(self, freeze_bn=False):
        super().__init__()
        self.bn = nn.BatchNorm2d(4)
        self.freeze_bn = freeze_bn  # expect: MG104

    def freeze_bn(self):
        for m in self.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.eval()

    def forward(self, x):
        return self.bn(x)
