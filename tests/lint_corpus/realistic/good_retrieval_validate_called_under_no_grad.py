"""Image retrieval training: validate() and the descriptor helpers switch the network to eval
and run it without no_grad of their own, because every caller wraps them in torch.no_grad()."""
import torch
import torch.nn as nn


def extract_single_scale(net, image):
    return net(image).cpu().squeeze()


def extract_vectors(net, images):
    net.eval()
    with torch.no_grad():
        return torch.stack([extract_single_scale(net, im) for im in images])


def validate(val_loader, model, criterion):
    model.eval()
    total = 0.0
    for images, target in val_loader:
        total += criterion(model(images), target).item()
    return total


def train(model, train_loader, val_loader, criterion, optimizer, epochs):
    for epoch in range(epochs):
        model.train()
        for images, target in train_loader:
            loss = criterion(model(images), target)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        with torch.no_grad():
            print(epoch, validate(val_loader, model, criterion))
