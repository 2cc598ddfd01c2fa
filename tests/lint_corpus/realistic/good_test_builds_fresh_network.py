"""VQA: evaluation loads the saved weights into a fresh network; the training net is untouched."""
import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self, hidden=512):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(2048, hidden), nn.ReLU(), nn.Dropout(0.1), nn.Linear(hidden, 3129))

    def forward(self, img_feat):
        return self.mlp(img_feat)


def eval_checkpoint(state_dict, loader):
    net = Net()
    net.load_state_dict(state_dict)
    net.eval()
    with torch.no_grad():
        return [net(x).argmax(-1) for x, _ in loader]


def train(loader, val_loader, epochs=13):
    net = Net()
    net.train()
    optim = torch.optim.Adam(net.parameters(), lr=1e-4)
    loss_fn = nn.BCEWithLogitsLoss()
    for epoch in range(epochs):
        for x, y in loader:
            optim.zero_grad()
            loss = loss_fn(net(x), y)
            loss.backward()
            optim.step()
        torch.save(net.state_dict(), f"epoch{epoch}.pkl")
        eval_checkpoint(net.state_dict(), val_loader)
