"""Pose estimation: one step function serves both phases, and both run in training mode, so the
validation batches update BatchNorm's running statistics."""
import torch
import torch.nn as nn


class StackedHourglass(nn.Module):
    def __init__(self, nstack=2, inp_dim=64, oup_dim=16):
        super().__init__()
        self.pre = nn.Sequential(nn.Conv2d(3, inp_dim, 7, 2, 3), nn.BatchNorm2d(inp_dim), nn.ReLU())
        self.outs = nn.ModuleList(nn.Conv2d(inp_dim, oup_dim, 1) for _ in range(nstack))

    def forward(self, imgs):
        x = self.pre(imgs)
        return torch.stack([o(x) for o in self.outs], 1)


def make_train(net, optimizer, batch, phase):
    imgs, heatmaps = batch
    net.train()
    if phase == "train":
        loss = ((net(imgs) - heatmaps[:, None]) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()
    else:
        with torch.no_grad():
            preds = net(imgs)  # expect: MG102
            return ((preds - heatmaps[:, None]) ** 2).mean().item()
