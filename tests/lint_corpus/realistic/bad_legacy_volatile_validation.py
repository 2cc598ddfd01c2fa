"""Score-based sampling helper (its caller decides the mode: not reported) and a pre-0.4
validation loop that relied on Variable(volatile=True) to turn autograd off. Since PyTorch 0.4
volatile does nothing (torch warns), so on any current torch the validation builds a graph."""
import numpy as np
import torch
from torch.autograd import Variable


def langevin_dynamics(x_mod, scorenet, n_steps=200, step_lr=5e-5):
    images = []
    with torch.no_grad():
        for _ in range(n_steps):
            images.append(x_mod.clamp(0.0, 1.0).cpu())
            noise = torch.randn_like(x_mod) * np.sqrt(step_lr * 2)
            x_mod = x_mod + step_lr * scorenet(x_mod) + noise
    return images


def validate(model, val_loader, criterion):
    model.eval()
    total = 0.0
    for data, target in val_loader:
        data, target = Variable(data, volatile=True), Variable(target)
        total += criterion(model(data), target).data[0]  # expect: MG401
    return total / len(val_loader)
