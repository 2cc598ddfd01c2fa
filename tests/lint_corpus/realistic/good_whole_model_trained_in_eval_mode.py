"""Segmentation fine-tuning with BatchNorm frozen on purpose: the whole model trains in eval
mode (the network has no dropout), as the original DeepLab-ResNet port does."""
import torch
import torch.nn as nn


class Bottleneck(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(c, affine=True)

    def forward(self, x):
        return torch.relu(x + self.bn(self.conv(x)))


class MS_Deeplab(nn.Module):
    def __init__(self, num_classes=21):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 64, 7, 2, 3), Bottleneck(64), Bottleneck(64))
        self.classifier = nn.Conv2d(64, num_classes, 1)

    def forward(self, x):
        return self.classifier(self.body(x))


def main(loader, max_iter=20000):
    model = MS_Deeplab()
    model.eval()  # BN statistics stay those of the pretrained network
    optimizer = torch.optim.SGD(model.parameters(), lr=2.5e-4, momentum=0.9)
    for it, (images, labels) in enumerate(loader):
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()
        if it == max_iter:
            break
