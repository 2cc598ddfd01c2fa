"""A course notebook turned script: validation inside the epoch loop, dropout never switched off."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(28 * 28, 512)
        self.fc2 = nn.Linear(512, 10)
        self.dropout = nn.Dropout(0.2)

    def forward(self, x):
        x = self.dropout(F.relu(self.fc1(x.view(-1, 28 * 28))))
        return self.fc2(x)


model = Net()
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
train_loader, valid_loader = [], []
valid_loss_min = float("inf")

for epoch in range(50):
    train_loss, valid_loss = 0.0, 0.0
    for data, target in train_loader:
        optimizer.zero_grad()
        loss = criterion(model(data), target)
        loss.backward()
        optimizer.step()
        train_loss += loss.item() * data.size(0)
    with torch.no_grad():
        for data, target in valid_loader:
            output = model(data)  # expect: MG102
            valid_loss += criterion(output, target).item() * data.size(0)
    if valid_loss <= valid_loss_min:
        torch.save(model.state_dict(), "model.pt")
        valid_loss_min = valid_loss
