"""Small Inception-style feature network trained on the source domain; pool features for FID."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class ConvBN(nn.Sequential):
    def __init__(self, cin, cout, k, s=1, p=0):
        super().__init__(nn.Conv2d(cin, cout, k, s, p, bias=False), nn.BatchNorm2d(cout, eps=1e-3), nn.ReLU(inplace=True))


class Mixed(nn.Module):
    def __init__(self, cin, c1, c3, c5, cp):
        super().__init__()
        self.b1 = ConvBN(cin, c1, 1)
        self.b3 = nn.Sequential(ConvBN(cin, c3, 1), ConvBN(c3, c3, 3, p=1))
        self.b5 = nn.Sequential(ConvBN(cin, c5, 1), ConvBN(c5, c5, 5, p=2))
        self.bp = nn.Sequential(nn.AvgPool2d(3, 1, 1), ConvBN(cin, cp, 1))

    def forward(self, x):
        return torch.cat([self.b1(x), self.b3(x), self.b5(x), self.bp(x)], 1)


class PoolFeatureNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(ConvBN(3, 32, 3, 2, 1), ConvBN(32, 64, 3, 1, 1), nn.MaxPool2d(2))
        self.mixed = nn.Sequential(Mixed(64, 64, 96, 32, 32), Mixed(224, 128, 128, 64, 64), nn.MaxPool2d(2),
                                   Mixed(384, 192, 192, 96, 96))
        self.classifier = nn.Linear(576, 1000)

    def forward(self, x, features_only=True):
        x = F.interpolate(x, size=(128, 128), mode="bilinear", align_corners=False)
        f = F.adaptive_avg_pool2d(self.mixed(self.stem(x)), 1).flatten(1)
        return f if features_only else self.classifier(f)


def build_inception_features(weights="weights/pool_feature_net.pt", device="cuda"):
    net = PoolFeatureNet()
    net.load_state_dict(torch.load(weights, map_location="cpu"))
    return net.to(device)
