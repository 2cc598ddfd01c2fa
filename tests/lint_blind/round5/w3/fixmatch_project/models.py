"""WideResNet-28-k as used in the FixMatch paper (BN momentum 0.001, leaky ReLU 0.1)."""
import torch.nn as nn
import torch.nn.functional as F


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride, drop_rate=0.0, activate_before_residual=False):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin, momentum=0.001)
        self.relu1 = nn.LeakyReLU(0.1, inplace=True)
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout, momentum=0.001)
        self.relu2 = nn.LeakyReLU(0.1, inplace=True)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.drop = nn.Dropout(drop_rate) if drop_rate > 0 else nn.Identity()
        self.equal = cin == cout
        self.shortcut = None if self.equal else nn.Conv2d(cin, cout, 1, stride, 0, bias=False)
        self.abr = activate_before_residual

    def forward(self, x):
        if not self.equal and self.abr:
            x = self.relu1(self.bn1(x))
            out = x
        else:
            out = self.relu1(self.bn1(x))
        out = self.conv1(out if self.equal else x)
        out = self.conv2(self.drop(self.relu2(self.bn2(out))))
        return out + (x if self.equal else self.shortcut(x))


def _stage(n, cin, cout, stride, drop_rate, abr=False):
    return nn.Sequential(*[BasicBlock(cin if i == 0 else cout, cout, stride if i == 0 else 1,
                                      drop_rate, abr) for i in range(n)])


class WideResNet(nn.Module):
    def __init__(self, num_classes, depth=28, widen=2, drop_rate=0.0):
        super().__init__()
        ch = [16, 16 * widen, 32 * widen, 64 * widen]
        n = (depth - 4) // 6
        self.conv1 = nn.Conv2d(3, ch[0], 3, 1, 1, bias=False)
        self.block1 = _stage(n, ch[0], ch[1], 1, drop_rate, abr=True)
        self.block2 = _stage(n, ch[1], ch[2], 2, drop_rate)
        self.block3 = _stage(n, ch[2], ch[3], 2, drop_rate)
        self.bn = nn.BatchNorm2d(ch[3], momentum=0.001)
        self.relu = nn.LeakyReLU(0.1, inplace=True)
        self.fc = nn.Linear(ch[3], num_classes)
        self.channels = ch[3]
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="leaky_relu")
            elif isinstance(m, nn.Linear):
                nn.init.xavier_normal_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        out = self.block3(self.block2(self.block1(self.conv1(x))))
        out = F.adaptive_avg_pool2d(self.relu(self.bn(out)), 1).flatten(1)
        return self.fc(out)


def build_wideresnet(num_classes, depth=28, widen=2, drop_rate=0.0):
    return WideResNet(num_classes, depth, widen, drop_rate)
