import torch
from torch import nn

model = nn.Sequential(nn.Linear(8, 8), nn.Dropout(0.2), nn.Linear(8, 1))
optimizer = torch.optim.Adam(model.parameters())


def validate(loader):
    model.eval()  # expect: MG101
    with torch.no_grad():
        return sum(model(x).sum().item() for x in loader)


def train(loader, val_loader, epochs):
    for epoch in range(epochs):
        model.train()
        for step, x in enumerate(loader):
            loss = model(x).pow(2).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if step % 100 == 0:
                validate(val_loader)
