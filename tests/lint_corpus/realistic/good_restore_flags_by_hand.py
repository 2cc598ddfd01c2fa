"""A periodic validation helper that records every submodule's training flag and puts each one back afterwards.

Restoring flag by flag (rather than calling net.train()) also keeps any deliberately frozen
submodule frozen; the finally block guarantees the restore even if evaluation raises.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


class SmallResNet(nn.Module):
    def __init__(self, n_classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU())
        self.block = nn.Sequential(nn.Conv2d(32, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU())
        self.fc = nn.Sequential(nn.Flatten(), nn.Dropout(0.2), nn.Linear(32 * 32 * 32, n_classes))

    def forward(self, x):
        h = self.stem(x)
        return self.fc(h + self.block(h))


def validation_loss(net, loader):
    saved = {name: m.training for name, m in net.named_modules()}
    net.eval()
    try:
        total, count = 0.0, 0
        with torch.no_grad():
            for x, y in loader:
                total += F.cross_entropy(net(x), y, reduction="sum").item()
                count += y.numel()
        return total / max(count, 1)
    finally:
        for name, m in net.named_modules():
            m.training = saved[name]


def train(net, train_loader, val_loader, epochs=30, val_every=300):
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, nesterov=True)
    step = 0
    for epoch in range(epochs):
        net.train()
        for x, y in train_loader:
            loss = F.cross_entropy(net(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            if step % val_every == 0:
                print(f"epoch {epoch} step {step} val loss {validation_loss(net, val_loader):.4f}")


if __name__ == "__main__":
    train(SmallResNet(), [], [])
