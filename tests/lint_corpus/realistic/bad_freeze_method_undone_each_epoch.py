"""Graph transformer: freeze() sets requires_grad and BatchNorm eval once; every epoch's
model.train() brings BatchNorm back, while the model still reports itself frozen."""
import torch
import torch.nn as nn


class GraphTransformer(nn.Module):
    def __init__(self, dim=128):
        super().__init__()
        self.encoder = nn.Linear(dim, dim)
        self.bn = nn.BatchNorm1d(dim)
        self.head = nn.Linear(dim, 1)
        self.frozen = False

    def forward(self, x):
        return self.head(self.bn(self.encoder(x)).relu())

    def freeze(self):
        for p in self.encoder.parameters():
            p.requires_grad = False
        self.bn.eval()  # expect: MG301
        self.frozen = True


def finetune(model, loader, epochs=10):
    model.freeze()
    optimizer = torch.optim.Adam(p for p in model.parameters() if p.requires_grad)
    for epoch in range(epochs):
        model.train()
        for x, y in loader:
            loss = nn.functional.mse_loss(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
