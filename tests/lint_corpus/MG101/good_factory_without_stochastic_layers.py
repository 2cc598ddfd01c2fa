import torch
from torch import nn


class Regressor(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(3, width), nn.Tanh(), nn.Linear(width, 1))

    def forward(self, x):
        return self.net(x)


def build_model(width=32):
    return Regressor(width)


model = build_model()
opt = torch.optim.Adam(model.parameters())


def evaluate(points):
    model.eval()
    with torch.no_grad():
        return model(points)


for step in range(1000):
    loss = model(torch.randn(16, 3)).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    if step % 100 == 0:
        evaluate(torch.randn(4, 3))
