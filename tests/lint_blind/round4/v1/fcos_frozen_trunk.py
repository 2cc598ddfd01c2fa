"""ResNet trunk for a one-stage detector with frozen early stages and frozen norm layers.

Freezing is re-applied inside ``train()`` so the usual ``model.train()`` at the start of
every epoch cannot silently unfreeze anything.
"""
import torch
import torch.nn as nn
from torch.nn.modules.batchnorm import _BatchNorm
from torchvision.models import resnet50
from torchvision.ops import sigmoid_focal_loss

from det.heads import FCOSHead
from det.necks import FPN
from det.targets import fcos_targets


class FrozenStageResNet(nn.Module):
    def __init__(self, frozen_stages=1, norm_eval=True, weights="IMAGENET1K_V1"):
        super().__init__()
        r = resnet50(weights=weights)
        self.stem = nn.Sequential(r.conv1, r.bn1, r.relu, r.maxpool)
        self.layer1, self.layer2, self.layer3, self.layer4 = r.layer1, r.layer2, r.layer3, r.layer4
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self._freeze_stages()

    def _freeze_stages(self):
        frozen = [self.stem] + [getattr(self, f"layer{i}") for i in range(1, self.frozen_stages + 1)]
        for mod in frozen:
            mod.eval()
            for p in mod.parameters():
                p.requires_grad = False

    def train(self, mode=True):
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, _BatchNorm):
                    m.eval()
        return self

    def forward(self, x):
        x = self.stem(x)
        c2 = self.layer1(x)
        c3 = self.layer2(c2)
        c4 = self.layer3(c3)
        c5 = self.layer4(c4)
        return c3, c4, c5


class FCOS(nn.Module):
    def __init__(self, num_classes=80):
        super().__init__()
        self.backbone = FrozenStageResNet(frozen_stages=1, norm_eval=True)
        self.neck = FPN([512, 1024, 2048], 256, extra_levels=2)
        self.head = FCOSHead(256, num_classes, num_convs=4, norm="GN")
        self.strides = (8, 16, 32, 64, 128)

    def forward(self, images, targets=None):
        feats = self.neck(self.backbone(images))
        cls_out, reg_out, ctr_out = self.head(feats)
        if targets is None:
            return self.head.decode(cls_out, reg_out, ctr_out, self.strides)
        cls_t, reg_t, ctr_t, pos = fcos_targets(targets, feats, self.strides)
        num_pos = max(pos.sum().item(), 1.0)
        loss_cls = sigmoid_focal_loss(cls_out, cls_t, reduction="sum") / num_pos
        loss_reg = self.head.giou_loss(reg_out[pos], reg_t[pos], weight=ctr_t[pos])
        loss_ctr = nn.functional.binary_cross_entropy_with_logits(
            ctr_out[pos], ctr_t[pos], reduction="sum") / num_pos
        return {"cls": loss_cls, "reg": loss_reg, "ctr": loss_ctr}


def train_detector(model, loader, epochs, device, lr=0.01):
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.SGD(params, lr=lr, momentum=0.9, weight_decay=1e-4)
    for epoch in range(epochs):
        model.train()
        for images, targets in loader:
            losses = model(images.to(device), [t.to(device) for t in targets])
            total = sum(losses.values())
            opt.zero_grad()
            total.backward()
            nn.utils.clip_grad_norm_(params, 35.0)
            opt.step()
        print(epoch, {k: round(v.item(), 4) for k, v in losses.items()})
    return model
