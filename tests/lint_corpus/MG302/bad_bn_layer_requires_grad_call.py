"""Warm start of a click-through model: the input BatchNorm keeps its pretrained affine values
with requires_grad_(False), but the layer is never put in eval mode, so its running statistics
follow every training batch."""
import torch
import torch.nn as nn


class CTRNet(nn.Module):
    def __init__(self, n_dense, n_hidden=256):
        super().__init__()
        self.dense_bn = nn.BatchNorm1d(n_dense)
        self.mlp = nn.Sequential(nn.Linear(n_dense, n_hidden), nn.ReLU(), nn.Linear(n_hidden, 1))

    def forward(self, dense):
        return self.mlp(self.dense_bn(dense)).squeeze(1)


def warm_start(net, state):
    net.load_state_dict(state)
    net.dense_bn.requires_grad_(False)  # expect: MG302


def fit(net, loader, epochs=3):
    opt = torch.optim.Adam([p for p in net.parameters() if p.requires_grad], lr=1e-3)
    for _ in range(epochs):
        net.train()
        for dense, y in loader:
            loss = nn.functional.binary_cross_entropy_with_logits(net(dense), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
