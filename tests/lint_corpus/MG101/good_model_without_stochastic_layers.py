import torch
from torch import nn


class LinearNet(nn.Module):
    """No dropout, no BatchNorm: eval() and train() behave the same."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.LayerNorm(16), nn.Linear(16, 1))

    def forward(self, x):
        return self.body(x)


model = LinearNet()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)


def test(data):
    model.eval()
    with torch.no_grad():
        return [model(x) for x in data]


for epoch in range(5):
    for x in range(10):
        loss = model(torch.randn(2, 4)).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        test([torch.randn(2, 4)])
