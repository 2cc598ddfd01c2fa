"""Descriptor extraction for the database / query images and mAP on Oxford/Paris."""
import numpy as np
import torch

from .revisited import compute_map_revisited


def dump_descriptors(net, loader, device, dim=2048):
    out = torch.zeros(len(loader.dataset), dim)
    offset = 0
    for images in loader:
        vecs = net(images.to(device)).detach().cpu()  # expect: MG102, MG401
        out[offset:offset + vecs.size(0)] = vecs
        offset += vecs.size(0)
    return out.numpy()


def learn_whitening(descs, dim=None, eps=1e-6):
    """PCA whitening (Radenovic et al.) learned on a set of L2-normalised descriptors."""
    mu = descs.mean(axis=0, keepdims=True)
    centered = descs - mu
    cov = centered.T @ centered / max(len(descs) - 1, 1)
    eigval, eigvec = np.linalg.eigh(cov)
    order = np.argsort(eigval)[::-1]
    eigval, eigvec = eigval[order], eigvec[:, order]
    if dim is not None:
        eigval, eigvec = eigval[:dim], eigvec[:, :dim]
    proj = eigvec / np.sqrt(eigval + eps)
    return mu, proj


def apply_whitening(descs, mu, proj):
    out = (descs - mu) @ proj
    return out / np.linalg.norm(out, axis=1, keepdims=True).clip(min=1e-12)


def evaluate_retrieval(net, db_loader, q_loader, gnd, device, whiten=None):
    db = dump_descriptors(net, db_loader, device)
    qs = dump_descriptors(net, q_loader, device)
    if whiten is not None:
        db, qs = apply_whitening(db, *whiten), apply_whitening(qs, *whiten)
    ranks = np.argsort(-(db @ qs.T), axis=0)
    return compute_map_revisited(ranks, gnd)
