"""BYOL-style self-distillation with a momentum target network."""
import copy

import torch
import torch.nn as nn
import torch.nn.functional as F


def mlp_head(din, hidden=4096, dout=256):
    return nn.Sequential(nn.Linear(din, hidden), nn.BatchNorm1d(hidden), nn.ReLU(inplace=True),
                         nn.Linear(hidden, dout))


class SelfDistill(nn.Module):
    def __init__(self, backbone, feat_dim, base_m=0.996):
        super().__init__()
        self.online_backbone = backbone
        self.online_proj = mlp_head(feat_dim)
        self.predictor = mlp_head(256, 4096, 256)
        self.target_backbone = copy.deepcopy(backbone).requires_grad_(False)
        self.target_proj = copy.deepcopy(self.online_proj).requires_grad_(False)
        self.base_m = base_m
        self._target_eval()

    def _target_eval(self):
        self.target_backbone.eval()
        self.target_proj.eval()

    def train(self, mode=True):
        super().train(mode)
        self._target_eval()  # the target only produces regression targets
        return self

    @torch.no_grad()
    def momentum_update(self, progress):
        m = 1 - (1 - self.base_m) * (torch.cos(torch.tensor(progress * torch.pi)) + 1) / 2
        pairs = ((self.online_backbone, self.target_backbone), (self.online_proj, self.target_proj))
        for online, target in pairs:
            for po, pt in zip(online.parameters(), target.parameters()):
                pt.mul_(m).add_(po.detach(), alpha=1 - m)
            for bo, bt in zip(online.buffers(), target.buffers()):
                bt.copy_(bo)

    def forward(self, v1, v2):
        p1 = self.predictor(self.online_proj(self.online_backbone(v1)))
        p2 = self.predictor(self.online_proj(self.online_backbone(v2)))
        with torch.no_grad():
            z1 = self.target_proj(self.target_backbone(v1))
            z2 = self.target_proj(self.target_backbone(v2))
        loss = 2 - 2 * F.cosine_similarity(p1, z2.detach(), dim=-1).mean()
        loss = loss + 2 - 2 * F.cosine_similarity(p2, z1.detach(), dim=-1).mean()
        return loss
