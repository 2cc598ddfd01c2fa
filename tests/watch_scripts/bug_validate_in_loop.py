import torch
from torch import nn
from common import batches, make_model

model = make_model()
opt = torch.optim.SGD(model.parameters(), lr=0.1)
loss_fn = nn.CrossEntropyLoss()


def validate():
    model.eval()  # <eval>
    with torch.no_grad():
        for x, y in batches(2):
            model(x)


model.train()
for step, (x, y) in enumerate(batches(6)):
    loss = loss_fn(model(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()  # <step>
    if step % 2 == 1:
        validate()
print("trained")
