"""Embedding network for instance-level image retrieval (landmarks).

A ResNet trunk followed by GeM pooling and a whitening layer.  The batches used
for fine-tuning are tiny (tuples of 1 query + 1 positive + 5 negatives), so the
ImageNet BatchNorm statistics are kept frozen.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision


class GeM(nn.Module):
    def __init__(self, p=3.0, eps=1e-6):
        super().__init__()
        self.p = nn.Parameter(torch.ones(1) * p)
        self.eps = eps

    def forward(self, x):
        return F.avg_pool2d(x.clamp(min=self.eps).pow(self.p), x.shape[-2:]).pow(1.0 / self.p)


class RetrievalNet(nn.Module):
    def __init__(self, arch="resnet101", dim=2048, pretrained=True, frozen_bn=True):
        super().__init__()
        trunk = getattr(torchvision.models, arch)(weights="DEFAULT" if pretrained else None)
        self.features = nn.Sequential(*list(trunk.children())[:-2])
        self.pool = GeM()
        self.whiten = nn.Linear(2048, dim, bias=True)
        if frozen_bn:
            self.freeze_batchnorm()

    def freeze_batchnorm(self):
        # keep the ImageNet running statistics: tuples are far too small to estimate them
        for m in self.features.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.eval()  # expect: MG301

    def forward(self, x):
        v = self.pool(self.features(x)).flatten(1)
        v = F.normalize(v, dim=-1)
        return F.normalize(self.whiten(v), dim=-1)
