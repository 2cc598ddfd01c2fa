# ML2022 Spring HW3 - Food-11 image classification
# Strong-baseline attempt: bigger CNN, more augmentation, validate every `valid_steps` updates.
import os
import numpy as np
import torch
import torch.nn as nn
import torchvision.transforms as transforms
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from food_dataset import FoodDataset   # provided by the TAs

config = {
    "seed": 6666,
    "batch_size": 64,
    "n_epochs": 40,
    "lr": 3e-4,
    "weight_decay": 1e-5,
    "valid_steps": 500,
    "save_path": "./model.ckpt",
}
device = "cuda" if torch.cuda.is_available() else "cpu"
torch.manual_seed(config["seed"])
np.random.seed(config["seed"])

train_tfm = transforms.Compose([
    transforms.RandomResizedCrop((128, 128), scale=(0.6, 1.0)),
    transforms.RandomHorizontalFlip(),
    transforms.ColorJitter(0.3, 0.3, 0.3),
    transforms.ToTensor(),
])
test_tfm = transforms.Compose([transforms.Resize((128, 128)), transforms.ToTensor()])

train_set = FoodDataset(os.path.join("./food11", "training"), tfm=train_tfm)
valid_set = FoodDataset(os.path.join("./food11", "validation"), tfm=test_tfm)
train_loader = DataLoader(train_set, batch_size=config["batch_size"], shuffle=True, num_workers=4)
valid_loader = DataLoader(valid_set, batch_size=config["batch_size"], shuffle=False, num_workers=4)


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        def block(i, o):
            return [nn.Conv2d(i, o, 3, 1, 1), nn.BatchNorm2d(o), nn.ReLU(), nn.MaxPool2d(2, 2, 0)]
        self.cnn = nn.Sequential(*block(3, 64), *block(64, 128), *block(128, 256),
                                 *block(256, 512), *block(512, 512))
        self.fc = nn.Sequential(
            nn.Linear(512 * 4 * 4, 1024), nn.ReLU(), nn.Dropout(0.4),
            nn.Linear(1024, 512), nn.ReLU(), nn.Dropout(0.4),
            nn.Linear(512, 11),
        )

    def forward(self, x):
        out = self.cnn(x)
        return self.fc(out.view(out.size(0), -1))


def valid(model, loader, criterion):
    model.eval()  # expect: MG101
    losses, accs = [], []
    for imgs, labels in tqdm(loader, leave=False):
        with torch.no_grad():
            logits = model(imgs.to(device))
        labels = labels.to(device)
        losses.append(criterion(logits, labels).item())
        accs.append((logits.argmax(dim=-1) == labels).float().mean().item())
    return sum(losses) / len(losses), sum(accs) / len(accs)


def train_one_epoch(model, loader, criterion, optimizer, state):
    model.train()
    for imgs, labels in tqdm(loader):
        logits = model(imgs.to(device))
        loss = criterion(logits, labels.to(device))
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), max_norm=10)
        optimizer.step()
        state["step"] += 1

        if state["step"] % config["valid_steps"] == 0:
            v_loss, v_acc = valid(model, valid_loader, criterion)
            print(f"[step {state['step']}] valid loss = {v_loss:.5f}, acc = {v_acc:.5f}")
            if v_acc > state["best_acc"]:
                state["best_acc"] = v_acc
                torch.save(model.state_dict(), config["save_path"])
                print(f"saving model with acc {v_acc:.5f}")


model = Classifier().to(device)
criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
optimizer = torch.optim.Adam(model.parameters(), lr=config["lr"], weight_decay=config["weight_decay"])
state = {"step": 0, "best_acc": 0.0}

for epoch in range(config["n_epochs"]):
    print(f"===== epoch {epoch + 1}/{config['n_epochs']} =====")
    train_one_epoch(model, train_loader, criterion, optimizer, state)

print("best valid acc", state["best_acc"])
