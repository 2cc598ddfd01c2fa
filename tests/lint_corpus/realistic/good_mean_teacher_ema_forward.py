"""Mean teacher: the EMA model is run in training mode under no_grad on purpose, every step."""
import torch
import torch.nn as nn


class ConvNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 32, 3), nn.BatchNorm2d(32), nn.ReLU(), nn.Dropout(0.5))
        self.fc = nn.LazyLinear(10)

    def forward(self, x):
        return self.fc(self.body(x).flatten(1))


def update_ema_variables(model, ema_model, alpha):
    for ema_param, param in zip(ema_model.parameters(), model.parameters()):
        ema_param.data.mul_(alpha).add_(param.data, alpha=1 - alpha)


def train(train_loader, model, ema_model, optimizer, epoch):
    model.train()
    ema_model.train()
    for i, (input, ema_input, target) in enumerate(train_loader):
        with torch.no_grad():
            ema_logit = ema_model(ema_input)
        logit = model(input)
        loss = nn.functional.cross_entropy(logit, target) + \
            ((logit.softmax(1) - ema_logit.softmax(1)) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        update_ema_variables(model, ema_model, 0.999)
