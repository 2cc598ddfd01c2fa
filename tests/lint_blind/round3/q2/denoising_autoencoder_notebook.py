# %% [markdown]
# # Denoising autoencoder on MNIST
# Add gaussian noise to the digits and learn to remove it.

# %%
import torch
import torch.nn as nn
import matplotlib.pyplot as plt
from torchvision import datasets, transforms

device = "cuda" if torch.cuda.is_available() else "cpu"
noise_factor = 0.4
n_epochs = 30

# %%
mnist_train = datasets.MNIST("data", train=True, download=True, transform=transforms.ToTensor())
mnist_test = datasets.MNIST("data", train=False, download=True, transform=transforms.ToTensor())
train_loader = torch.utils.data.DataLoader(mnist_train, batch_size=128, shuffle=True)
test_loader = torch.utils.data.DataLoader(mnist_test, batch_size=8, shuffle=True)


def add_noise(imgs):
    return torch.clamp(imgs + noise_factor * torch.randn_like(imgs), 0.0, 1.0)


# %%
class ConvDenoiser(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 32, 3, stride=2, padding=1), nn.BatchNorm2d(32), nn.ReLU(True),
            nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.BatchNorm2d(64), nn.ReLU(True),
        )
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(64, 32, 3, stride=2, padding=1, output_padding=1), nn.BatchNorm2d(32), nn.ReLU(True),
            nn.ConvTranspose2d(32, 1, 3, stride=2, padding=1, output_padding=1), nn.Sigmoid(),
        )

    def forward(self, x):
        return self.decoder(self.encoder(x))


autoenc = ConvDenoiser().to(device)
criterion = nn.MSELoss()
optimizer = torch.optim.Adam(autoenc.parameters(), lr=1e-3)


# %%
def show_reconstructions(epoch):
    autoenc.eval()  # expect: MG101
    imgs, _ = next(iter(test_loader))
    noisy = add_noise(imgs)
    recon = autoenc(noisy.to(device)).cpu().detach()  # expect: MG401
    fig, axes = plt.subplots(3, 8, figsize=(12, 5))
    for i in range(8):
        axes[0, i].imshow(imgs[i, 0], cmap="gray")
        axes[1, i].imshow(noisy[i, 0], cmap="gray")
        axes[2, i].imshow(recon[i, 0], cmap="gray")
        for r in range(3):
            axes[r, i].axis("off")
    fig.suptitle(f"epoch {epoch}: original / noisy / denoised")
    plt.show()


# %%
autoenc.train()
losses = []
for epoch in range(1, n_epochs + 1):
    epoch_loss = 0.0
    for imgs, _ in train_loader:
        imgs = imgs.to(device)
        out = autoenc(add_noise(imgs))
        loss = criterion(out, imgs)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        epoch_loss += loss.item() * imgs.size(0)
    losses.append(epoch_loss / len(mnist_train))
    print(f"Epoch: {epoch} \tTraining Loss: {losses[-1]:.6f}")
    if epoch % 5 == 0:
        show_reconstructions(epoch)

# %%
plt.plot(losses)
plt.xlabel("epoch")
plt.ylabel("MSE")
plt.show()
torch.save(autoenc.state_dict(), "denoiser.pt")
