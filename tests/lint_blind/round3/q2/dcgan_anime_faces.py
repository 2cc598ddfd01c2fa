#!/usr/bin/env python
# coding: utf-8

# # DCGAN on 64x64 anime faces
# get_ipython().system('pip install -q torchinfo')

# In[1]:


import os
import torch
import torch.nn as nn
import torchvision.utils as vutils
import torchvision.transforms as T
from torchvision.datasets import ImageFolder
import matplotlib.pyplot as plt

DATA = "../input/animefacedataset"
nz, ngf, ndf = 100, 64, 64
lr, beta1 = 2e-4, 0.5
num_epochs = 25
dev = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")


# In[2]:


ds = ImageFolder(DATA, transform=T.Compose([
    T.Resize(64), T.CenterCrop(64), T.ToTensor(), T.Normalize((0.5,) * 3, (0.5,) * 3)]))
dl = torch.utils.data.DataLoader(ds, batch_size=128, shuffle=True, num_workers=2, drop_last=True)


def weights_init(m):
    name = m.__class__.__name__
    if "Conv" in name:
        nn.init.normal_(m.weight.data, 0.0, 0.02)
    elif "BatchNorm" in name:
        nn.init.normal_(m.weight.data, 1.0, 0.02)
        nn.init.constant_(m.bias.data, 0)


# In[3]:


gen = nn.Sequential(
    nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False), nn.BatchNorm2d(ngf * 8), nn.ReLU(True),
    nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 4), nn.ReLU(True),
    nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 2), nn.ReLU(True),
    nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf), nn.ReLU(True),
    nn.ConvTranspose2d(ngf, 3, 4, 2, 1, bias=False), nn.Tanh(),
).to(dev)
disc = nn.Sequential(
    nn.Conv2d(3, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True),
    nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 2), nn.LeakyReLU(0.2, inplace=True),
    nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 4), nn.LeakyReLU(0.2, inplace=True),
    nn.Conv2d(ndf * 4, ndf * 8, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 8), nn.LeakyReLU(0.2, inplace=True),
    nn.Conv2d(ndf * 8, 1, 4, 1, 0, bias=False), nn.Flatten(),
).to(dev)
gen.apply(weights_init)
disc.apply(weights_init)


# In[4]:


bce = nn.BCEWithLogitsLoss()
fixed_noise = torch.randn(64, nz, 1, 1, device=dev)
optD = torch.optim.Adam(disc.parameters(), lr=lr, betas=(beta1, 0.999))
optG = torch.optim.Adam(gen.parameters(), lr=lr, betas=(beta1, 0.999))
grids, G_losses, D_losses = [], [], []
iters = 0


# In[5]:


for epoch in range(num_epochs):
    for i, (real, _) in enumerate(dl):
        real = real.to(dev)
        b = real.size(0)
        # (1) discriminator: real -> 1, fake -> 0
        disc.zero_grad()
        err_real = bce(disc(real).view(-1), torch.ones(b, device=dev))
        noise = torch.randn(b, nz, 1, 1, device=dev)
        fake = gen(noise)
        err_fake = bce(disc(fake.detach()).view(-1), torch.zeros(b, device=dev))
        errD = err_real + err_fake
        errD.backward()
        optD.step()
        # (2) generator: make D say 1 on fakes
        gen.zero_grad()
        errG = bce(disc(fake).view(-1), torch.ones(b, device=dev))
        errG.backward()
        optG.step()

        G_losses.append(errG.item())
        D_losses.append(errD.item())
        if i % 100 == 0:
            print(f"[{epoch}/{num_epochs}][{i}/{len(dl)}] Loss_D {errD.item():.4f} Loss_G {errG.item():.4f}")

        if iters % 500 == 0 or (epoch == num_epochs - 1 and i == len(dl) - 1):
            gen.eval()
            with torch.no_grad():
                samples = gen(fixed_noise).cpu()
            gen.train()
            grids.append(vutils.make_grid(samples, padding=2, normalize=True))
        iters += 1


# In[6]:


plt.figure(figsize=(10, 5))
plt.plot(G_losses, label="G")
plt.plot(D_losses, label="D")
plt.legend()
plt.show()

plt.figure(figsize=(8, 8))
plt.axis("off")
plt.imshow(grids[-1].permute(1, 2, 0))
plt.show()
os.makedirs("out", exist_ok=True)
torch.save({"gen": gen.state_dict(), "disc": disc.state_dict()}, "out/dcgan_anime.pt")
