"""Two-branch high-resolution network for top-down keypoint heatmaps (converted from a
Keras implementation; layer names follow the original so weights can be mapped)."""
import torch
import torch.nn as nn
import torch.nn.functional as F

BN_MOMENTUM = 0.9


def norm(ch):
    return nn.BatchNorm2d(ch, momentum=BN_MOMENTUM)  # expect: MG303


class BasicBlock(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.conv1 = nn.Conv2d(ch, ch, 3, 1, 1, bias=False)
        self.bn1 = norm(ch)
        self.conv2 = nn.Conv2d(ch, ch, 3, 1, 1, bias=False)
        self.bn2 = norm(ch)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)), inplace=True)
        out = self.bn2(self.conv2(out))
        return F.relu(out + x, inplace=True)


class Fuse(nn.Module):
    """Exchange information between the high- and low-resolution branches."""

    def __init__(self, c_hi, c_lo):
        super().__init__()
        self.lo_to_hi = nn.Sequential(nn.Conv2d(c_lo, c_hi, 1, bias=False), norm(c_hi))
        self.hi_to_lo = nn.Sequential(nn.Conv2d(c_hi, c_lo, 3, 2, 1, bias=False), norm(c_lo))

    def forward(self, hi, lo):
        up = F.interpolate(self.lo_to_hi(lo), size=hi.shape[-2:], mode="nearest")
        return F.relu(hi + up), F.relu(lo + self.hi_to_lo(hi))


class HRStage(nn.Module):
    def __init__(self, c_hi, c_lo, n_blocks=4):
        super().__init__()
        self.hi = nn.Sequential(*[BasicBlock(c_hi) for _ in range(n_blocks)])
        self.lo = nn.Sequential(*[BasicBlock(c_lo) for _ in range(n_blocks)])
        self.fuse = Fuse(c_hi, c_lo)

    def forward(self, hi, lo):
        return self.fuse(self.hi(hi), self.lo(lo))


class PoseHRNetSmall(nn.Module):
    def __init__(self, num_joints=17, c_hi=32, c_lo=64, n_stages=3, frozen_stem=True):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 3, 2, 1, bias=False)
        self.norm1 = norm(64)
        self.conv2 = nn.Conv2d(64, 64, 3, 2, 1, bias=False)
        self.norm2 = norm(64)
        self.to_hi = nn.Sequential(nn.Conv2d(64, c_hi, 3, 1, 1, bias=False), norm(c_hi),
                                   nn.ReLU(inplace=True))
        self.to_lo = nn.Sequential(nn.Conv2d(64, c_lo, 3, 2, 1, bias=False), norm(c_lo),
                                   nn.ReLU(inplace=True))
        self.stages = nn.ModuleList([HRStage(c_hi, c_lo) for _ in range(n_stages)])
        self.final = nn.Conv2d(c_hi, num_joints, 1)
        self._init_weights()
        if frozen_stem:
            self._freeze_stem()

    def _init_weights(self):
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.normal_(m.weight, std=0.001)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def _freeze_stem(self):
        for layer in (self.conv1, self.norm1, self.conv2, self.norm2):
            for p in layer.parameters():
                p.requires_grad = False  # expect: MG302

    def forward(self, img):
        x = F.relu(self.norm1(self.conv1(img)), inplace=True)
        x = F.relu(self.norm2(self.conv2(x)), inplace=True)
        hi, lo = self.to_hi(x), self.to_lo(x)
        for stage in self.stages:
            hi, lo = stage(hi, lo)
        return self.final(hi)


def get_pose_net(cfg, is_train=True):
    net = PoseHRNetSmall(cfg.num_joints, frozen_stem=cfg.get("frozen_stem", True))
    if is_train and cfg.get("pretrained"):
        state = torch.load(cfg.pretrained, map_location="cpu")
        net.load_state_dict(state, strict=False)
    return net
