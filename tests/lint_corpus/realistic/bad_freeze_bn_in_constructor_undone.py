"""Matting network frozen in its constructor, trained by a loop that calls train() each epoch."""
import torch
import torch.nn as nn


class MattingNet(nn.Module):
    def __init__(self, freeze_bn=True):
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv2d(4, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU6())
        self.decoder = nn.Conv2d(32, 1, 3, padding=1)
        if freeze_bn:
            self.freeze_bn()

    def forward(self, x):
        return self.decoder(self.encoder(x))

    def freeze_bn(self):
        for m in self.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.eval()  # expect: MG301


def train(net, loader, optimizer, epochs):
    for epoch in range(epochs):
        net.train()
        for image, alpha in loader:
            pred = net(image)
            loss = (pred - alpha).abs().mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    net = MattingNet(freeze_bn=True)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-4)
    train(net, [], optimizer, epochs=30)
