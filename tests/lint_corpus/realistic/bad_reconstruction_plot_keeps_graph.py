"""Convolutional autoencoder on MNIST with a plotting helper called every few epochs.

The helper switches the model to eval and runs it once on a test batch with autograd on (it only
detaches the result afterwards), and never switches back, so the rest of training runs with
BatchNorm frozen too.
"""
import matplotlib.pyplot as plt
import torch
import torch.nn as nn

from digits import mnist_loaders

train_loader, test_loader = mnist_loaders(batch_size=128)


class AutoEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = nn.Sequential(nn.Conv2d(1, 16, 3, 2, 1), nn.BatchNorm2d(16), nn.ReLU())
        self.dec = nn.Sequential(nn.ConvTranspose2d(16, 1, 4, 2, 1), nn.Sigmoid())

    def forward(self, x):
        return self.dec(self.enc(x))


model = AutoEncoder()
opt = torch.optim.Adam(model.parameters(), lr=1e-3)


def show_reconstructions(epoch):
    model.eval()  # expect: MG101
    images, _ = next(iter(test_loader))
    recon = model(images).detach()  # expect: MG401
    fig, axes = plt.subplots(2, 8)
    for i in range(8):
        axes[0, i].imshow(images[i, 0])
        axes[1, i].imshow(recon[i, 0])
    fig.savefig(f"recon_{epoch}.png")


model.train()
for epoch in range(20):
    for images, _ in train_loader:
        loss = (model(images) - images).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    if epoch % 5 == 0:
        show_reconstructions(epoch)
