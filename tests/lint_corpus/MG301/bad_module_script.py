import torch
from torch import nn

from mypkg import build_model

model = build_model()
for module in model.modules():
    if isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
        module.eval()  # expect: MG301
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for epoch in range(10):
    model.train()
    for x in range(100):
        loss = model(x)
        loss.backward()
        optimizer.step()
