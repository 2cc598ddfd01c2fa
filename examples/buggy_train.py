"""A training script with three classic mode bugs, for `modeguard run` (see demo_4_watch.py).

1. validate() switches the model to eval and the batch loop never switches it back;
2. a "quick check" evaluates in training mode under torch.no_grad();
3. one batch is tiny, so BatchNorm trains on 3 samples.
"""

import torch
from torch import nn

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(10, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Dropout(0.3),
                      nn.Linear(32, 2))
opt = torch.optim.SGD(model.parameters(), lr=0.05)
data = [(torch.randn(32, 10), torch.randint(0, 2, (32,))) for _ in range(8)]
data.insert(2, (torch.randn(3, 10), torch.randint(0, 2, (3,))))  # a tiny batch


def validate():
    model.eval()
    with torch.no_grad():
        correct = sum((model(x).argmax(1) == y).sum().item() for x, y in data[:2])
    return correct / 64


def quick_check():
    with torch.no_grad():  # no_grad is not eval(): dropout and BatchNorm still train
        return model(data[0][0]).mean().item()


model.train()
for epoch in range(2):
    for step, (x, y) in enumerate(data):
        loss = nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step == 3:
            print(f"epoch {epoch} step {step}: val acc {validate():.2f}")
    if epoch == 0:
        model.train()
        quick_check()
print("done")
