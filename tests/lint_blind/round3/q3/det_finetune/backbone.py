"""ResNet backbone for the detector. Loads torchvision-format ImageNet weights."""
import torch
import torch.nn as nn


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        idt = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)) + idt)


class ResNet(nn.Module):
    def __init__(self, layers=(2, 2, 2, 2)):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        cin = 64
        for i, n in enumerate(layers):
            cout = 64 * 2 ** i
            blocks = [BasicBlock(cin, cout, 1 if i == 0 else 2)] + [BasicBlock(cout, cout) for _ in range(n - 1)]
            setattr(self, f"layer{i + 1}", nn.Sequential(*blocks))
            cin = cout
        self.out_channels = (128, 256, 512)

    def load_imagenet(self, path):
        sd = torch.load(path, map_location="cpu")
        missing, unexpected = self.load_state_dict({k: v for k, v in sd.items() if not k.startswith("fc.")},
                                                   strict=False)
        return missing, unexpected

    def freeze_norm_stats(self):
        """Detection batches are 2 images/GPU: keep the ImageNet BN statistics fixed.

        The affine parameters are still fine-tuned.
        """
        for m in self.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.eval()  # expect: MG301

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        c2 = self.layer1(x)
        c3 = self.layer2(c2)
        c4 = self.layer3(c3)
        c5 = self.layer4(c4)
        return c3, c4, c5


def resnet18(pretrained=None):
    net = ResNet((2, 2, 2, 2))
    if pretrained:
        net.load_imagenet(pretrained)
    return net


def resnet34(pretrained=None):
    net = ResNet((3, 4, 6, 3))
    if pretrained:
        net.load_imagenet(pretrained)
    return net
