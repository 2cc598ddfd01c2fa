"""Heteroscedastic regressor with Monte-Carlo dropout uncertainty (Gal & Ghahramani).

Dropout is *deliberately* left active at prediction time in `mc_predict`;
BatchNorm is kept in inference mode there.
"""
import argparse

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class DropoutMLP(nn.Module):
    def __init__(self, d_in, hidden=128, p=0.1):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(d_in, hidden), nn.BatchNorm1d(hidden), nn.ReLU(), nn.Dropout(p),
            nn.Linear(hidden, hidden), nn.BatchNorm1d(hidden), nn.ReLU(), nn.Dropout(p),
        )
        self.mu = nn.Linear(hidden, 1)
        self.log_var = nn.Linear(hidden, 1)

    def forward(self, x):
        h = self.net(x)
        return self.mu(h).squeeze(-1), self.log_var(h).squeeze(-1)


def gaussian_nll(mu, log_var, y):
    return 0.5 * (log_var + (y - mu) ** 2 * torch.exp(-log_var)).mean()


def keep_dropout_sampling(model):
    model.eval()
    for m in model.modules():
        if isinstance(m, nn.Dropout):
            m.train()


@torch.no_grad()
def mc_predict(model, x, passes=50):
    keep_dropout_sampling(model)
    mus, variances = [], []
    for _ in range(passes):
        mu, log_var = model(x)
        mus.append(mu)
        variances.append(log_var.exp())
    mus = torch.stack(mus)
    aleatoric = torch.stack(variances).mean(0)
    epistemic = mus.var(0)
    return mus.mean(0), aleatoric, epistemic


@torch.no_grad()
def val_nll(model, loader):
    model.eval()
    tot = n = 0
    for xb, yb in loader:
        mu, lv = model(xb)
        tot += gaussian_nll(mu, lv, yb).item() * len(yb)
        n += len(yb)
    return tot / n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--npz", required=True)
    ap.add_argument("--epochs", type=int, default=200)
    ap.add_argument("--check-every", type=int, default=100, help="optimizer steps")
    args = ap.parse_args()

    d = np.load(args.npz)
    tr = TensorDataset(torch.tensor(d["x_train"]).float(), torch.tensor(d["y_train"]).float())
    va = TensorDataset(torch.tensor(d["x_val"]).float(), torch.tensor(d["y_val"]).float())
    train_dl = DataLoader(tr, batch_size=64, shuffle=True, drop_last=True)
    val_dl = DataLoader(va, batch_size=512)

    model = DropoutMLP(tr.tensors[0].shape[1])
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-5)
    step = 0
    for epoch in range(args.epochs):
        for xb, yb in train_dl:
            model.train()
            mu, lv = model(xb)
            loss = gaussian_nll(mu, lv, yb) + 1e-3 * F.relu(-lv - 10).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            if step % args.check_every == 0:
                print(f"step {step}: train {loss.item():.4f} val nll {val_nll(model, val_dl):.4f}")

    x_test = torch.tensor(d["x_test"]).float()
    mean, alea, epis = mc_predict(model, x_test)
    np.savez("mc_predictions.npz", mean=mean.numpy(), aleatoric=alea.numpy(), epistemic=epis.numpy())
    print("mean epistemic std:", epis.sqrt().mean().item())


if __name__ == "__main__":
    main()
