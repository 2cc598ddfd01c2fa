"""Image retrieval fine-tuning: BatchNorm is put back into eval right after every model.train()."""
import torch
import torch.nn as nn


def set_batchnorm_eval(m):
    classname = m.__class__.__name__
    if classname.find("BatchNorm") != -1:
        m.eval()


class ImageRetrievalNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 64, 3), nn.BatchNorm2d(64), nn.ReLU())

    def forward(self, x):
        return self.features(x).mean(dim=(2, 3))


def train(train_loader, model, criterion, optimizer, epoch):
    model.train()
    model.apply(set_batchnorm_eval)
    for i, (images, target) in enumerate(train_loader):
        optimizer.zero_grad()
        loss = criterion(model(images), target)
        loss.backward()
        optimizer.step()


def validate(val_loader, model):
    model.eval()
    with torch.no_grad():
        return [model(images) for images, _ in val_loader]


def main(epochs=30):
    model = ImageRetrievalNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-6)
    for epoch in range(epochs):
        train([], model, nn.MSELoss(), optimizer, epoch)
        validate([], model)
