"""ResNet backbone for detection fine-tuning with frozen stages and frozen BN.

Detection batches are 2 images per GPU, so BatchNorm statistics from the
ImageNet checkpoint are kept: BN layers stay in eval mode even when the
detector calls ``model.train()`` every epoch, and their affine parameters are
not optimised.
"""
import torch
import torch.nn as nn
from torch.nn.modules.batchnorm import _BatchNorm
from torchvision.models import resnet50, ResNet50_Weights


class FrozenNormResNet(nn.Module):
    def __init__(self, frozen_stages=1, norm_eval=True, out_indices=(1, 2, 3, 4)):
        super().__init__()
        r = resnet50(weights=ResNet50_Weights.IMAGENET1K_V1)
        self.stem = nn.Sequential(r.conv1, r.bn1, r.relu, r.maxpool)
        self.stages = nn.ModuleList([r.layer1, r.layer2, r.layer3, r.layer4])
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self.out_indices = out_indices
        self._freeze_stages()

    def _freeze_stages(self):
        if self.frozen_stages >= 0:
            self.stem.eval()
            for p in self.stem.parameters():
                p.requires_grad = False
        for i in range(self.frozen_stages):
            stage = self.stages[i]
            stage.eval()
            for p in stage.parameters():
                p.requires_grad = False
        if self.norm_eval:
            for m in self.modules():
                if isinstance(m, _BatchNorm):
                    for p in m.parameters():
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
        outs = []
        for i, stage in enumerate(self.stages, start=1):
            x = stage(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)


class TinyDetector(nn.Module):
    def __init__(self, num_classes):
        super().__init__()
        self.backbone = FrozenNormResNet(frozen_stages=1, norm_eval=True)
        self.head = nn.Sequential(nn.Conv2d(2048, 256, 3, padding=1), nn.GroupNorm(32, 256), nn.ReLU(inplace=True),
                                  nn.Conv2d(256, num_classes + 4, 1))

    def forward(self, images):
        return self.head(self.backbone(images)[-1])


def finetune(det, loader, criterion, epochs=12, lr=0.01, device="cuda"):
    det.to(device)
    params = [p for p in det.parameters() if p.requires_grad]
    opt = torch.optim.SGD(params, lr=lr, momentum=0.9, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[8, 11], gamma=0.1)
    for epoch in range(epochs):
        det.train()
        for it, (images, targets) in enumerate(loader):
            out = det(images.to(device))
            loss = criterion(out, [t.to(device) for t in targets])
            opt.zero_grad()
            loss.backward()
            opt.step()
            if it % 100 == 0:
                print(f"epoch {epoch} iter {it} loss {loss.item():.4f}")
        sched.step()
        torch.save(det.state_dict(), f"det_epoch{epoch + 1}.pth")
    return det
