"""A recognizer's validation() runs without no_grad itself; every path into it is under
no_grad: test() wraps both the direct call and the benchmark helper that loops over several
evaluation sets in torch.no_grad()."""
import torch


def validation(model, criterion, loader):
    total, correct = 0.0, 0
    for images, labels in loader:
        preds = model(images)
        total += criterion(preds, labels).item()
        correct += (preds.argmax(-1) == labels).sum().item()
    return total / max(len(loader), 1), correct


def benchmark_all(model, criterion, loaders):
    return {name: validation(model, criterion, loader) for name, loader in loaders.items()}


def test(model, criterion, loaders, single):
    model.eval()
    with torch.no_grad():
        if single is None:
            return benchmark_all(model, criterion, loaders)
        return validation(model, criterion, loaders[single])
