import argparse
import copy
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from ssl_aug import TwoViewCIFAR, plain_cifar


def mlp(i, h, o):
    return nn.Sequential(nn.Linear(i, h), nn.BatchNorm1d(h), nn.ReLU(inplace=True), nn.Linear(h, o))


class BYOL(nn.Module):
    def __init__(self, proj_dim=256, hidden=4096):
        super().__init__()
        net = torchvision.models.resnet18()
        net.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
        net.maxpool = nn.Identity()
        net.fc = nn.Identity()
        self.online_backbone = net
        self.online_proj = mlp(512, hidden, proj_dim)
        self.predictor = mlp(proj_dim, hidden, proj_dim)
        self.target_backbone = copy.deepcopy(net).requires_grad_(False)
        self.target_proj = copy.deepcopy(self.online_proj).requires_grad_(False)

    @torch.no_grad()
    def update_target(self, tau):
        for online, target in ((self.online_backbone, self.target_backbone), (self.online_proj, self.target_proj)):
            for po, pt in zip(online.parameters(), target.parameters()):
                pt.mul_(tau).add_(po, alpha=1 - tau)

    def forward(self, v1, v2):
        p1 = self.predictor(self.online_proj(self.online_backbone(v1)))
        p2 = self.predictor(self.online_proj(self.online_backbone(v2)))
        # target branch is part of the training computation: like the paper, it runs
        # with the same mode as the online branch (batch statistics in BN)
        with torch.no_grad():
            z1 = self.target_proj(self.target_backbone(v1))
            z2 = self.target_proj(self.target_backbone(v2))
        loss = 2 - 2 * F.cosine_similarity(p1, z2.detach(), dim=-1)
        loss = loss + 2 - 2 * F.cosine_similarity(p2, z1.detach(), dim=-1)
        return loss.mean()


def extract(backbone, loader, device):
    backbone.eval()
    xs, ys = [], []
    with torch.no_grad():
        for img, y in loader:
            xs.append(backbone(img.to(device)).cpu().numpy())
            ys.append(y.numpy())
    return np.concatenate(xs), np.concatenate(ys)


def linear_probe(backbone, device, C=1.0):
    train_loader, test_loader = plain_cifar(batch_size=512)
    Xtr, ytr = extract(backbone, train_loader, device)
    Xte, yte = extract(backbone, test_loader, device)
    scaler = StandardScaler().fit(Xtr)
    clf = LogisticRegression(C=C, max_iter=2000, n_jobs=-1)
    clf.fit(scaler.transform(Xtr), ytr)
    return clf.score(scaler.transform(Xte), yte)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=300)
    ap.add_argument("--bs", type=int, default=512)
    ap.add_argument("--base-tau", type=float, default=0.99)
    args = ap.parse_args()
    dev = torch.device("cuda")

    model = BYOL().to(dev)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.SGD(params, lr=0.06 * args.bs / 256, momentum=0.9, weight_decay=5e-4)
    loader = torch.utils.data.DataLoader(TwoViewCIFAR(), args.bs, shuffle=True, drop_last=True, num_workers=8)
    total = args.epochs * len(loader)
    step = 0
    for epoch in range(args.epochs):
        model.train()
        for (v1, v2), _ in loader:
            loss = model(v1.to(dev), v2.to(dev))
            opt.zero_grad()
            loss.backward()
            opt.step()
            tau = 1 - (1 - args.base_tau) * (math.cos(math.pi * step / total) + 1) / 2
            model.update_target(tau)
            step += 1
        print(f"epoch {epoch} loss {loss.item():.4f}")

    acc = linear_probe(model.online_backbone, dev)
    print(f"linear probe accuracy: {acc:.4f}")
    torch.save(model.online_backbone.state_dict(), "byol_r18_backbone.pth")


if __name__ == "__main__":
    main()
