# %% [markdown]
# # Fashion-MNIST CNN
# Part 1 trains the network, part 2 reloads the saved checkpoint and looks at predictions.

# %%
import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader
from torchvision import datasets
from torchvision.transforms import ToTensor
import matplotlib.pyplot as plt

LABELS = ["T-shirt", "Trouser", "Pullover", "Dress", "Coat",
          "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

training_data = datasets.FashionMNIST(root="data", train=True, download=True, transform=ToTensor())
test_data = datasets.FashionMNIST(root="data", train=False, download=True, transform=ToTensor())
train_loader = DataLoader(training_data, batch_size=64, shuffle=True)
test_loader = DataLoader(test_data, batch_size=64)


# %%
class FashionCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer1 = nn.Sequential(
            nn.Conv2d(1, 32, kernel_size=3, padding=1),
            nn.BatchNorm2d(32),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.layer2 = nn.Sequential(
            nn.Conv2d(32, 64, kernel_size=3),
            nn.BatchNorm2d(64),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.fc1 = nn.Linear(64 * 6 * 6, 600)
        self.drop = nn.Dropout(0.25)
        self.fc2 = nn.Linear(600, 10)

    def forward(self, x):
        out = self.layer2(self.layer1(x))
        out = out.view(out.size(0), -1)
        out = self.drop(torch.relu(self.fc1(out)))
        return self.fc2(out)


# %%
def train_loop(dataloader, model, loss_fn, optimizer):
    model.train()
    for batch, (X, y) in enumerate(dataloader):
        pred = model(X)
        loss = loss_fn(pred, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if batch % 200 == 0:
            print(f"loss: {loss.item():>7f}  [{batch * len(X):>5d}/{len(dataloader.dataset):>5d}]")


def test_loop(dataloader, model, loss_fn):
    model.eval()
    test_loss, correct = 0, 0
    with torch.no_grad():
        for X, y in dataloader:
            pred = model(X)
            test_loss += loss_fn(pred, y).item()
            correct += (pred.argmax(1) == y).type(torch.float).sum().item()
    print(f"Test Error: Accuracy: {(100 * correct / len(dataloader.dataset)):>0.1f}%, "
          f"Avg loss: {test_loss / len(dataloader):>8f}")


# %%
net = FashionCNN()
loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(net.parameters(), lr=0.001)
for t in range(8):
    print(f"Epoch {t + 1}\n-------------------------------")
    train_loop(train_loader, net, loss_fn, optimizer)
    test_loop(test_loader, net, loss_fn)
torch.save(net.state_dict(), "fashion_cnn.pth")
print("Saved PyTorch Model State to fashion_cnn.pth")

# %% [markdown]
# ## Part 2: load the model and plot some predictions

# %%
model2 = FashionCNN()
model2.load_state_dict(torch.load("fashion_cnn.pth"))

images, targets = next(iter(DataLoader(test_data, batch_size=16, shuffle=True)))
out = model2(images)  # expect: MG102, MG401
probs = torch.softmax(out, dim=1).detach().numpy()

fig, axes = plt.subplots(2, 8, figsize=(16, 5))
for i, ax in enumerate(axes.flat):
    ax.imshow(images[i].squeeze(), cmap="gray")
    guess = int(np.argmax(probs[i]))
    color = "green" if guess == targets[i].item() else "red"
    ax.set_title(f"{LABELS[guess]}\n{probs[i, guess]:.2f}", color=color, fontsize=9)
    ax.axis("off")
plt.tight_layout()
plt.show()
