"""
Image similarity search in ~60 lines
====================================

Companion script for the blog post. We take a ResNet-50 trained on ImageNet, chop off
its classification layer and use the 2048-d pooled activations as an embedding. Nearest
neighbours in that space are usually visually similar photos.

    python photo_similarity_blog.py --photos ~/Pictures/holiday --query ~/Pictures/holiday/IMG_0042.jpg
"""
import argparse
import glob
import os

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn as nn
from PIL import Image
from sklearn.neighbors import NearestNeighbors
from torchvision import models, transforms

parser = argparse.ArgumentParser()
parser.add_argument("--photos", required=True)
parser.add_argument("--query", required=True)
parser.add_argument("--k", type=int, default=6)
parser.add_argument("--cache", default="embeddings.npy")
args = parser.parse_args()

preprocess = transforms.Compose([
    transforms.Resize(256),
    transforms.CenterCrop(224),
    transforms.ToTensor(),
    transforms.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]),
])

# Step 1: a pretrained network without its last layer
backbone = models.resnet50(pretrained=True)
backbone.fc = nn.Identity()
device = "cuda" if torch.cuda.is_available() else "cpu"
backbone = backbone.to(device)


# Step 2: push every photo through the network
def embed(paths, batch_size=32):
    chunks = []
    for start in range(0, len(paths), batch_size):
        imgs = [preprocess(Image.open(p).convert("RGB")) for p in paths[start:start + batch_size]]
        batch = torch.stack(imgs).to(device)
        with torch.no_grad():
            feats = backbone(batch)  # expect: MG102
        chunks.append(nn.functional.normalize(feats, dim=1).cpu().numpy())
    return np.concatenate(chunks)


paths = sorted(glob.glob(os.path.join(args.photos, "*.jpg")))
if os.path.exists(args.cache):
    gallery = np.load(args.cache)
else:
    gallery = embed(paths)
    np.save(args.cache, gallery)
print(f"{len(paths)} photos, embedding size {gallery.shape[1]}")

# Step 3: nearest neighbours with cosine distance
knn = NearestNeighbors(n_neighbors=args.k, metric="cosine").fit(gallery)
query_vec = embed([args.query])
dist, idx = knn.kneighbors(query_vec)

# Step 4: show the results
fig, axes = plt.subplots(1, args.k + 1, figsize=(3 * (args.k + 1), 3))
axes[0].imshow(Image.open(args.query))
axes[0].set_title("query")
for ax, i, d in zip(axes[1:], idx[0], dist[0]):
    ax.imshow(Image.open(paths[i]))
    ax.set_title(f"{d:.3f}")
for ax in axes:
    ax.axis("off")
plt.tight_layout()
plt.savefig("neighbours.png", dpi=120)
