"""DeepLab: a constructor flag stored under the name of the method meant to act on it."""
import torch.nn as nn


class DeepLab(nn.Module):
    def __init__(self, backbone, num_classes=21, sync_bn=True, freeze_bn=False):
        super().__init__()
        BatchNorm = nn.SyncBatchNorm if sync_bn else nn.BatchNorm2d
        self.backbone = backbone
        self.aspp = nn.Sequential(nn.Conv2d(2048, 256, 1), BatchNorm(256), nn.ReLU())
        self.decoder = nn.Conv2d(256, num_classes, 1)
        self.freeze_bn = freeze_bn  # expect: MG104

    def forward(self, x):
        return self.decoder(self.aspp(self.backbone(x)))

    def freeze_bn(self):
        for m in self.modules():
            if isinstance(m, (nn.SyncBatchNorm, nn.BatchNorm2d)):
                m.eval()

    def get_1x_lr_params(self):
        for m in self.backbone.modules():
            if self.freeze_bn and isinstance(m, nn.BatchNorm2d):
                continue
            yield from m.parameters()
