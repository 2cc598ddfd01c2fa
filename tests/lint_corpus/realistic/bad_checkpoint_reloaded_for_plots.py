"""Notebook exported to a script: trains a small CNN on CIFAR-10, then in a second cell reloads the
saved checkpoint into a fresh network to plot its predictions. The fresh network is never put in
eval mode (nor run under no_grad), so the plotted logits come from active Dropout and from
BatchNorm normalising by the plotted batch instead of its learned running statistics."""
import matplotlib.pyplot as plt
import torch
import torch.nn as nn
import torch.nn.functional as F
from cifar_utils import get_loaders

# %% cell 1: model and training
class SmallCNN(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(nn.Flatten(), nn.Dropout(0.5), nn.Linear(64 * 8 * 8, num_classes))

    def forward(self, x):
        return self.classifier(self.features(x))


train_loader, test_loader = get_loaders(batch_size=128)
net = SmallCNN()
optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
for epoch in range(5):
    net.train()
    for images, labels in train_loader:
        loss = F.cross_entropy(net(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    net.eval()
    with torch.no_grad():
        acc = sum((net(x).argmax(1) == y).float().mean().item() for x, y in test_loader) / len(test_loader)
    print(f"epoch {epoch}: test acc {acc:.3f}")
torch.save(net.state_dict(), "ckpt.pt")

# %% cell 2: reload the checkpoint and plot some predictions
net2 = SmallCNN()
net2.load_state_dict(torch.load("ckpt.pt"))
images, labels = next(iter(test_loader))
logits = net2(images)  # expect: MG102, MG401
probs = logits.softmax(dim=1).detach()

fig, axes = plt.subplots(2, 8, figsize=(16, 4))
for ax, img, p, y in zip(axes.flat, images, probs, labels):
    ax.imshow(img.permute(1, 2, 0).clamp(0, 1))
    ax.set_title(f"pred {p.argmax().item()} ({p.max().item():.2f}) / true {y.item()}")
    ax.axis("off")
plt.tight_layout()
plt.savefig("predictions.png")
