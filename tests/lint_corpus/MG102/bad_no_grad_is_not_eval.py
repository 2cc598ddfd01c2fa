import torch


def val(model, loader):
    total = 0.0
    with torch.no_grad():
        for x, y in loader:
            out = model(x)  # expect: MG102
            total += (out.argmax(1) == y).float().mean().item()
    return total / len(loader)
