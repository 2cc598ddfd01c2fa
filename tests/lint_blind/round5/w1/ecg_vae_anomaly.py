"""Unsupervised ECG beat anomaly detection with a 1D convolutional VAE.

Trained on normal beats only (MIT-BIH 'N'), beats are scored by reconstruction error and
flagged above the 99th percentile of the training-set errors.
Port of the Keras model from the thesis code.
"""
import argparse

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.metrics import average_precision_score, roc_auc_score
from torch.utils.data import DataLoader, TensorDataset


def conv_block(cin, cout):
    return nn.Sequential(
        nn.Conv1d(cin, cout, 7, stride=2, padding=3),
        nn.BatchNorm1d(cout, momentum=0.99, eps=1e-3),  # expect: MG303
        nn.LeakyReLU(0.1),
    )


class BeatVAE(nn.Module):
    def __init__(self, beat_len=256, z_dim=16):
        super().__init__()
        self.enc = nn.Sequential(conv_block(1, 16), conv_block(16, 32), conv_block(32, 64))
        flat = 64 * beat_len // 8
        self.mu = nn.Linear(flat, z_dim)
        self.logvar = nn.Linear(flat, z_dim)
        self.fc = nn.Linear(z_dim, flat)
        self.dec = nn.Sequential(
            nn.ConvTranspose1d(64, 32, 8, 2, 3), nn.LeakyReLU(0.1),
            nn.ConvTranspose1d(32, 16, 8, 2, 3), nn.LeakyReLU(0.1),
            nn.ConvTranspose1d(16, 1, 8, 2, 3),
        )
        self.beat_len = beat_len

    def forward(self, x):
        h = self.enc(x).flatten(1)
        mu, logvar = self.mu(h), self.logvar(h)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar) if self.training else mu
        r = self.dec(self.fc(z).view(-1, 64, self.beat_len // 8))
        return r, mu, logvar


def elbo(recon, x, mu, logvar, beta=0.5):
    rec = F.mse_loss(recon, x, reduction="sum") / x.size(0)
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp()) / x.size(0)
    return rec + beta * kld


def fit_threshold(vae, loader, device, q=0.99):
    vae.eval()
    errs = []
    for (x,) in loader:
        x = x.to(device)
        recon, _, _ = vae(x)  # expect: MG401
        errs.append(((recon - x) ** 2).mean(dim=(1, 2)).detach().cpu())
    errs = torch.cat(errs)
    return torch.quantile(errs, q).item()


@torch.no_grad()
def anomaly_scores(vae, loader, device):
    vae.eval()
    out = []
    for (x,) in loader:
        x = x.to(device)
        recon, _, _ = vae(x)
        out.append(((recon - x) ** 2).mean(dim=(1, 2)).cpu())
    return torch.cat(out).numpy()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--beats", default="mitbih_beats.npz")
    ap.add_argument("--epochs", type=int, default=60)
    args = ap.parse_args()
    dev = "cuda" if torch.cuda.is_available() else "cpu"

    d = np.load(args.beats)
    x_tr = torch.tensor(d["normal_train"], dtype=torch.float32).unsqueeze(1)
    x_te = torch.tensor(d["test"], dtype=torch.float32).unsqueeze(1)
    y_te = d["test_is_abnormal"]

    tr = DataLoader(TensorDataset(x_tr), batch_size=256, shuffle=True, drop_last=True)
    tr_eval = DataLoader(TensorDataset(x_tr), batch_size=1024)
    te = DataLoader(TensorDataset(x_te), batch_size=1024)

    vae = BeatVAE().to(dev)
    opt = torch.optim.Adam(vae.parameters(), lr=1e-3)
    for epoch in range(args.epochs):
        vae.train()
        total = 0.0
        for (x,) in tr:
            x = x.to(dev)
            r, mu, lv = vae(x)
            loss = elbo(r, x, mu, lv)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item()
        print(f"epoch {epoch} elbo {total / len(tr):.3f}")

    thr = fit_threshold(vae, tr_eval, dev)
    s = anomaly_scores(vae, te, dev)
    pred = s > thr
    print(f"threshold {thr:.5f}  flagged {pred.mean():.3%}")
    print(f"AUROC {roc_auc_score(y_te, s):.4f}  AUPRC {average_precision_score(y_te, s):.4f}")
    print(f"recall@thr {pred[y_te == 1].mean():.3f}  FPR@thr {pred[y_te == 0].mean():.3f}")


if __name__ == "__main__":
    main()
