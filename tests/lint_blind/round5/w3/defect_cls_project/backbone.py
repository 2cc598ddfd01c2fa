"""Model factory for the surface-defect classifier."""
import torch.nn as nn
import torchvision


def _keep_pretrained_bn_stats(module):
    # batches are tiny (4-6 crops of 1024px), so keep the ImageNet running statistics
    for m in module.modules():
        if isinstance(m, (nn.BatchNorm2d, nn.SyncBatchNorm)):
            m.eval()  # expect: MG301


class DefectNet(nn.Module):
    def __init__(self, num_classes, arch="resnet50", pretrained=True, p_drop=0.3):
        super().__init__()
        weights = "DEFAULT" if pretrained else None
        net = getattr(torchvision.models, arch)(weights=weights)
        feat_dim = net.fc.in_features
        net.fc = nn.Identity()
        self.encoder = net
        self.head = nn.Sequential(nn.Dropout(p_drop), nn.Linear(feat_dim, 512), nn.ReLU(inplace=True),
                                  nn.Dropout(p_drop), nn.Linear(512, num_classes))

    def forward(self, x):
        return self.head(self.encoder(x))

    def param_groups(self, lr, backbone_mult=0.1):
        return [{"params": self.encoder.parameters(), "lr": lr * backbone_mult},
                {"params": self.head.parameters(), "lr": lr}]


def build_model(num_classes, arch="resnet50", pretrained=True, freeze_bn=True):
    model = DefectNet(num_classes, arch, pretrained)
    if freeze_bn:
        _keep_pretrained_bn_stats(model.encoder)
    return model
