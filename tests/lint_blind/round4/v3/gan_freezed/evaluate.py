import numpy as np
import torch
from scipy import linalg


def _stats(feats):
    return feats.mean(0), np.cov(feats, rowvar=False)


def frechet_distance(mu1, s1, mu2, s2):
    covmean, _ = linalg.sqrtm(s1.dot(s2), disp=False)
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean.real))


@torch.no_grad()
def real_statistics(feature_net, loader, device):
    feats = []
    for x, _ in loader:
        feats.append(feature_net(x.to(device)).cpu().numpy())  # expect: MG102
    return _stats(np.concatenate(feats))


@torch.no_grad()
def fid_score(G, feature_net, real_mu, real_sigma, n=10_000, batch=200, device="cuda"):
    prev = G.training
    G.eval()
    try:
        feats = []
        for _ in range(n // batch):
            imgs = G(torch.randn(batch, G.z_dim, device=device))
            feats.append(feature_net(imgs).cpu().numpy())  # expect: MG102
    finally:
        G.train(prev)
    mu, sigma = _stats(np.concatenate(feats))
    return frechet_distance(mu, sigma, real_mu, real_sigma)
