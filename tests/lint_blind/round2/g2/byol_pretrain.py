# BYOL pretraining on STL-10 unlabeled split.
# Ported from our earlier TF2 implementation; hyper-parameters kept identical.
import copy
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

from augment import TwoCropsBYOL
from lars import LARS


def mlp(in_dim, hidden_dim=4096, out_dim=256, bn_momentum=0.99):
    return nn.Sequential(
        nn.Linear(in_dim, hidden_dim),
        nn.BatchNorm1d(hidden_dim, momentum=bn_momentum, eps=1e-3),  # expect: MG303
        nn.ReLU(inplace=True),
        nn.Linear(hidden_dim, out_dim),
    )


class BYOL(nn.Module):
    def __init__(self, tau_base=0.996):
        super().__init__()
        resnet = torchvision.models.resnet18(weights=None)
        feat_dim = resnet.fc.in_features
        resnet.fc = nn.Identity()
        self.online_encoder = nn.Sequential(resnet, mlp(feat_dim))
        self.predictor = mlp(256)
        self.target_encoder = copy.deepcopy(self.online_encoder)
        for p in self.target_encoder.parameters():
            p.requires_grad = False
        self.tau_base = tau_base
        self.tau = tau_base

    @torch.no_grad()
    def update_target(self, step, total_steps):
        self.tau = 1 - (1 - self.tau_base) * (math.cos(math.pi * step / total_steps) + 1) / 2
        for po, pt in zip(self.online_encoder.parameters(), self.target_encoder.parameters()):
            pt.mul_(self.tau).add_(po.detach(), alpha=1 - self.tau)

    @staticmethod
    def regression_loss(p, z):
        p = F.normalize(p, dim=-1)
        z = F.normalize(z, dim=-1)
        return 2 - 2 * (p * z).sum(dim=-1)

    def forward(self, v1, v2):
        p1 = self.predictor(self.online_encoder(v1))
        p2 = self.predictor(self.online_encoder(v2))
        with torch.no_grad():
            z1 = self.target_encoder(v1)
            z2 = self.target_encoder(v2)
        return (self.regression_loss(p1, z2) + self.regression_loss(p2, z1)).mean()


def run(epochs=300, batch_size=256, base_lr=0.2, device="cuda"):
    ds = torchvision.datasets.STL10("data", split="unlabeled", download=False,
                                    transform=TwoCropsBYOL(96))
    loader = torch.utils.data.DataLoader(ds, batch_size=batch_size, shuffle=True,
                                         num_workers=8, drop_last=True, pin_memory=True)
    learner = BYOL().to(device)
    params = [p for n, p in learner.named_parameters() if not n.startswith("target_encoder")]
    optimizer = LARS(params, lr=base_lr * batch_size / 256, weight_decay=1.5e-6)
    total = epochs * len(loader)
    step = 0
    learner.train()
    for epoch in range(epochs):
        running = 0.0
        for (v1, v2), _ in loader:
            v1, v2 = v1.to(device, non_blocking=True), v2.to(device, non_blocking=True)
            loss = learner(v1, v2)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            learner.update_target(step, total)
            step += 1
            running += loss.item()
        print(f"epoch {epoch}: loss {running / len(loader):.4f}  tau {learner.tau:.5f}")
        if (epoch + 1) % 50 == 0:
            torch.save(learner.online_encoder[0].state_dict(), f"byol_r18_ep{epoch + 1}.pth")


if __name__ == "__main__":
    run()
