"""A segmentation trainer: validation every `interval_validate` iterations, train() once per epoch."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class FCN(nn.Module):
    def __init__(self, n_class=21):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU())
        self.drop = nn.Dropout2d(0.5)
        self.score = nn.Conv2d(64, n_class, 1)

    def forward(self, x):
        return self.score(self.drop(self.features(x)))


class Trainer:
    def __init__(self, model, optimizer, train_loader, val_loader, interval_validate=4000):
        self.model = model
        self.optim = optimizer
        self.train_loader = train_loader
        self.val_loader = val_loader
        self.interval_validate = interval_validate
        self.iteration = 0
        self.best_mean_iu = 0

    def validate(self):
        self.model.eval()  # expect: MG101
        val_loss = 0
        for data, target in self.val_loader:
            with torch.no_grad():
                score = self.model(data)
            val_loss += F.cross_entropy(score, target).item()
        return val_loss / len(self.val_loader)

    def train_epoch(self):
        self.model.train()
        for batch_idx, (data, target) in enumerate(self.train_loader):
            self.iteration += 1
            if self.iteration % self.interval_validate == 0:
                self.validate()
            self.optim.zero_grad()
            score = self.model(data)
            loss = F.cross_entropy(score, target)
            loss.backward()
            self.optim.step()

    def train(self, max_epoch):
        for epoch in range(max_epoch):
            self.train_epoch()


def main():
    model = FCN()
    optim = torch.optim.SGD(model.parameters(), lr=1e-3)
    trainer = Trainer(model, optim, [], [])
    trainer.train(10)
