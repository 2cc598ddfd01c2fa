"""Compute ImageNet ResNet-50 embeddings for a gallery and evaluate k-NN retrieval (mAP@k)."""
import argparse
import os

import faiss
import numpy as np
import torch
import torch.nn as nn
import torchvision
from torch.utils.data import DataLoader
from torchvision import transforms
from torchvision.datasets import ImageFolder


def build_extractor(device):
    weights = torchvision.models.ResNet50_Weights.IMAGENET1K_V2
    backbone = torchvision.models.resnet50(weights=weights)
    backbone.fc = nn.Identity()
    return backbone.to(device), weights.transforms()


@torch.inference_mode()
def embed(backbone, loader, device):
    feats, labels = [], []
    for imgs, ys in loader:
        f = backbone(imgs.to(device, non_blocking=True))  # expect: MG102
        f = nn.functional.normalize(f, dim=1)
        feats.append(f.cpu().numpy().astype("float32"))
        labels.append(ys.numpy())
    return np.concatenate(feats), np.concatenate(labels)


def average_precision_at_k(hit_row, k):
    hits = hit_row[:k]
    if hits.sum() == 0:
        return 0.0
    prec = np.cumsum(hits) / (np.arange(k) + 1)
    return float((prec * hits).sum() / hits.sum())


def retrieval_map(q_feat, q_lab, g_feat, g_lab, k=10):
    index = faiss.IndexFlatIP(g_feat.shape[1])
    index.add(g_feat)
    _, nn_idx = index.search(q_feat, k)
    hits = (g_lab[nn_idx] == q_lab[:, None]).astype(np.float32)
    return float(np.mean([average_precision_at_k(h, k) for h in hits]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gallery", required=True)
    ap.add_argument("--query", required=True)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--bs", type=int, default=128)
    ap.add_argument("--save-dir", default="emb")
    args = ap.parse_args()

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    backbone, preprocess = build_extractor(device)

    g_ds = ImageFolder(args.gallery, transform=preprocess)
    q_ds = ImageFolder(args.query, transform=preprocess)
    assert g_ds.classes == q_ds.classes, "gallery/query class lists differ"
    g_dl = DataLoader(g_ds, batch_size=args.bs, num_workers=8)
    q_dl = DataLoader(q_ds, batch_size=args.bs, num_workers=8)

    g_feat, g_lab = embed(backbone, g_dl, device)
    q_feat, q_lab = embed(backbone, q_dl, device)

    os.makedirs(args.save_dir, exist_ok=True)
    np.save(os.path.join(args.save_dir, "gallery.npy"), g_feat)
    np.save(os.path.join(args.save_dir, "query.npy"), q_feat)
    np.save(os.path.join(args.save_dir, "gallery_labels.npy"), g_lab)

    score = retrieval_map(q_feat, q_lab, g_feat, g_lab, k=args.k)
    print(f"mAP@{args.k}: {score:.4f}  ({len(q_ds)} queries, {len(g_ds)} gallery)")


if __name__ == "__main__":
    main()
