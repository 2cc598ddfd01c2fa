# %% [markdown]
# Lab 4 - Kuzushiji-MNIST with dropout + batchnorm

# %%
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision import datasets, transforms
from sklearn.metrics import confusion_matrix, classification_report
import seaborn as sns
import matplotlib.pyplot as plt

torch.manual_seed(42)
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

# %%
norm = transforms.Normalize((0.1918,), (0.3483,))
train_set = datasets.KMNIST("data", train=True, download=True,
                            transform=transforms.Compose([transforms.RandomRotation(10), transforms.ToTensor(), norm]))
test_set = datasets.KMNIST("data", train=False, download=True,
                           transform=transforms.Compose([transforms.ToTensor(), norm]))
train_loader = torch.utils.data.DataLoader(train_set, batch_size=100, shuffle=True)
test_loader = torch.utils.data.DataLoader(test_set, batch_size=1000)

# %%
class KNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 32, 5, padding=2)
        self.b1 = nn.BatchNorm2d(32)
        self.c2 = nn.Conv2d(32, 64, 5, padding=2)
        self.b2 = nn.BatchNorm2d(64)
        self.d2 = nn.Dropout2d(0.2)
        self.f1 = nn.Linear(64 * 7 * 7, 512)
        self.d1 = nn.Dropout(0.5)
        self.f2 = nn.Linear(512, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.b1(self.c1(x))), 2)
        x = self.d2(F.max_pool2d(F.relu(self.b2(self.c2(x))), 2))
        x = torch.flatten(x, 1)
        return self.f2(self.d1(F.relu(self.f1(x))))

knet = KNet().to(device)
opt = torch.optim.Adam(knet.parameters(), lr=1e-3)

# %%
log = []
for ep in range(8):
    knet.train()
    for xb, yb in train_loader:
        xb, yb = xb.to(device), yb.to(device)
        opt.zero_grad()
        F.cross_entropy(knet(xb), yb).backward()
        opt.step()

    knet.eval()
    n_ok = 0
    with torch.no_grad():
        for xb, yb in test_loader:
            n_ok += (knet(xb.to(device)).argmax(1).cpu() == yb).sum().item()
    log.append(n_ok / len(test_set))
    print(ep, log[-1])

# %%
# not converged yet, run the same cell again with a lower lr
for g in opt.param_groups:
    g["lr"] = 2e-4
for ep in range(4):
    knet.train()
    for xb, yb in train_loader:
        xb, yb = xb.to(device), yb.to(device)
        opt.zero_grad()
        F.cross_entropy(knet(xb), yb).backward()
        opt.step()

    knet.eval()
    n_ok = 0
    with torch.no_grad():
        for xb, yb in test_loader:
            n_ok += (knet(xb.to(device)).argmax(1).cpu() == yb).sum().item()
    log.append(n_ok / len(test_set))
    print("extra", ep, log[-1])

# %%
all_pred, all_true = [], []
knet.eval()
with torch.no_grad():
    for xb, yb in test_loader:
        all_pred.append(knet(xb.to(device)).argmax(1).cpu().numpy())
        all_true.append(yb.numpy())
all_pred, all_true = np.concatenate(all_pred), np.concatenate(all_true)
print(classification_report(all_true, all_pred, digits=4))

# %%
cm = confusion_matrix(all_true, all_pred)
plt.figure(figsize=(8, 7))
sns.heatmap(cm, annot=True, fmt="d", cmap="Blues")
plt.xlabel("predicted")
plt.ylabel("true")
plt.show()
