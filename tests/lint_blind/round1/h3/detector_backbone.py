"""ResNet backbone for detection with frozen early stages and frozen BatchNorm.

Detection batches are small (2 images per GPU), so BatchNorm statistics are
kept at their ImageNet values: `train()` is overridden to re-apply the freeze
every time the detector is switched to training mode.
"""
import torch
import torch.nn as nn
from torchvision.models import resnet50, ResNet50_Weights
from torchvision.ops import FeaturePyramidNetwork


class ResNetBackbone(nn.Module):
    def __init__(self, frozen_stages=1, norm_eval=True, out_indices=(1, 2, 3, 4)):
        super().__init__()
        trunk = resnet50(weights=ResNet50_Weights.IMAGENET1K_V2)
        self.stem = nn.Sequential(trunk.conv1, trunk.bn1, trunk.relu, trunk.maxpool)
        self.layer1, self.layer2 = trunk.layer1, trunk.layer2
        self.layer3, self.layer4 = trunk.layer3, trunk.layer4
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self.out_indices = out_indices
        self._freeze_stages()

    def _freeze_stages(self):
        if self.frozen_stages >= 0:
            self.stem.eval()
            for p in self.stem.parameters():
                p.requires_grad = False
        for i in range(1, self.frozen_stages + 1):
            stage = getattr(self, f"layer{i}")
            stage.eval()
            for p in stage.parameters():
                p.requires_grad = False

    def train(self, mode=True):
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, nn.modules.batchnorm._BatchNorm):
                    m.eval()
        return self

    def forward(self, x):
        x = self.stem(x)
        feats = {}
        for i in range(1, 5):
            x = getattr(self, f"layer{i}")(x)
            if i in self.out_indices:
                feats[f"c{i + 1}"] = x
        return feats


class BackboneWithFPN(nn.Module):
    def __init__(self, out_channels=256, **kwargs):
        super().__init__()
        self.body = ResNetBackbone(**kwargs)
        self.fpn = FeaturePyramidNetwork([256, 512, 1024, 2048], out_channels)
        self.out_channels = out_channels

    def forward(self, x):
        return self.fpn(self.body(x))


def build_optimizer(detector, lr=0.02, wd=1e-4):
    decay, no_decay = [], []
    for name, p in detector.named_parameters():
        if not p.requires_grad:
            continue
        (no_decay if p.ndim == 1 else decay).append(p)
    return torch.optim.SGD([{"params": decay, "weight_decay": wd},
                            {"params": no_decay, "weight_decay": 0.0}], lr=lr, momentum=0.9)


def train_detector(detector, loader, epochs, device, log_every=50):
    opt = build_optimizer(detector)
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[8, 11], gamma=0.1)
    detector.to(device)
    for epoch in range(epochs):
        detector.train()
        for it, (images, targets) in enumerate(loader):
            images = [img.to(device) for img in images]
            targets = [{k: v.to(device) for k, v in t.items()} for t in targets]
            losses = detector(images, targets)
            total = sum(losses.values())
            opt.zero_grad()
            total.backward()
            opt.step()
            if it % log_every == 0:
                parts = " ".join(f"{k}={v.item():.3f}" for k, v in losses.items())
                print(f"epoch {epoch} it {it} loss {total.item():.3f} ({parts})")
        sched.step()
    return detector


if __name__ == "__main__":
    from torchvision.models.detection import FasterRCNN
    from coco_loader import make_train_loader

    backbone = BackboneWithFPN(frozen_stages=1, norm_eval=True)
    model = FasterRCNN(backbone, num_classes=91)
    train_detector(model, make_train_loader("/data/coco", batch_size=2), epochs=12, device="cuda")
    torch.save(model.state_dict(), "frcnn_r50_fpn_1x.pth")
