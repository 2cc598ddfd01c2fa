import numpy as np
import torch
import torch.nn.functional as F


def rmse(y_true, y_pred):
    return float(np.sqrt(np.mean((np.asarray(y_true) - np.asarray(y_pred)) ** 2)))


def mae(y_true, y_pred):
    return float(np.mean(np.abs(np.asarray(y_true) - np.asarray(y_pred))))


def val_loss(net, loader, device, scaler=None):
    """Mean MSE over a loader, in target units if a scaler is given."""
    net.eval()
    total, n = 0.0, 0
    for batch in loader:
        batch = batch.to(device)
        pred = net(batch)  # expect: MG401
        y = batch.y.view_as(pred)
        if scaler is not None:
            pred, y = scaler.inverse(pred), scaler.inverse(y)
        total += F.mse_loss(pred, y, reduction="sum").item()
        n += y.numel()
    return total / max(n, 1)


def predict(net, loader, device):
    outs = []
    with torch.no_grad():
        for batch in loader:
            batch = batch.to(device)
            outs.append(net(batch).cpu())  # expect: MG102
    return torch.cat(outs).numpy()


class StandardScaler:
    def __init__(self, mean, std):
        self.mean, self.std = mean, std

    @classmethod
    def fit(cls, ys):
        ys = torch.as_tensor(ys, dtype=torch.float32)
        return cls(ys.mean().item(), ys.std().item() + 1e-8)

    def transform(self, y):
        return (y - self.mean) / self.std

    def inverse(self, y):
        return y * self.std + self.mean
