import torch
from torch import nn
from common import batches, make_model

model = make_model()
opt = torch.optim.SGD(model.parameters(), lr=0.1)
for m in model.modules():
    if isinstance(m, nn.BatchNorm1d):
        m.eval()  # <freeze>
for epoch in range(2):
    model.train()  # <undo>
    for x, y in batches(2):
        loss = model(x).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
