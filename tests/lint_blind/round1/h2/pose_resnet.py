"""Simple-baseline style pose estimator: ResNet trunk + three deconvolutions."""
import logging

import torch.nn as nn
from torchvision.models import resnet50, ResNet50_Weights

logger = logging.getLogger(__name__)


class DeconvHead(nn.Module):
    def __init__(self, in_ch, num_joints, num_deconv=3, deconv_ch=256, final_kernel=1):
        super().__init__()
        layers = []
        for _ in range(num_deconv):
            layers += [
                nn.ConvTranspose2d(in_ch, deconv_ch, 4, stride=2, padding=1, output_padding=0, bias=False),
                nn.BatchNorm2d(deconv_ch, momentum=0.1),
                nn.ReLU(inplace=True),
            ]
            in_ch = deconv_ch
        self.deconv = nn.Sequential(*layers)
        self.final = nn.Conv2d(deconv_ch, num_joints, final_kernel, padding=final_kernel // 2)

    def forward(self, x):
        return self.final(self.deconv(x))


class PoseResNet(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        trunk = resnet50(weights=ResNet50_Weights.IMAGENET1K_V2 if cfg.MODEL.PRETRAINED else None)
        self.stem = nn.Sequential(trunk.conv1, trunk.bn1, trunk.relu, trunk.maxpool)
        self.layer1, self.layer2 = trunk.layer1, trunk.layer2
        self.layer3, self.layer4 = trunk.layer3, trunk.layer4
        self.head = DeconvHead(2048, cfg.MODEL.NUM_JOINTS, final_kernel=cfg.MODEL.FINAL_CONV_KERNEL)
        self.freeze_bn = cfg.MODEL.FREEZE_BN  # expect: MG104
        self.target_type = cfg.MODEL.TARGET_TYPE
        self._init_head()

    def _init_head(self):
        for m in self.head.modules():
            if isinstance(m, (nn.ConvTranspose2d, nn.Conv2d)):
                nn.init.normal_(m.weight, std=0.001)
                if m.bias is not None:
                    nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)

    def freeze_bn(self):
        """Keep the ImageNet statistics of the trunk (batch of 8 per GPU is too small)."""
        for name, m in self.named_modules():
            if name.startswith("head"):
                continue
            if isinstance(m, nn.BatchNorm2d):
                m.eval()

    def get_param_groups(self, base_lr, head_lr_mult=10.0):
        trunk_params, head_params = [], []
        for name, p in self.named_parameters():
            if not p.requires_grad:
                continue
            if name.startswith("head"):
                head_params.append(p)
            elif self.freeze_bn and (".bn" in name or "downsample.1" in name or name.startswith("stem.1")):
                logger.debug("skipping BN parameter %s", name)
            else:
                trunk_params.append(p)
        return [
            {"params": trunk_params, "lr": base_lr},
            {"params": head_params, "lr": base_lr * head_lr_mult},
        ]

    def forward(self, x):
        x = self.stem(x)
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.head(x)


def get_pose_net(cfg, is_train=True):
    model = PoseResNet(cfg)
    if is_train and cfg.MODEL.INIT_WEIGHTS and cfg.MODEL.PRETRAINED_HEAD:
        import torch
        state = torch.load(cfg.MODEL.PRETRAINED_HEAD, map_location="cpu")
        missing, unexpected = model.load_state_dict(state, strict=False)
        logger.info("loaded head weights (missing=%d, unexpected=%d)", len(missing), len(unexpected))
    return model
