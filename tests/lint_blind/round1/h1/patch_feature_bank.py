"""Memory bank of mid-level patch features for anomaly detection (PatchCore-style).

The backbone is an ImageNet WideResNet-50 used purely as a frozen feature
extractor; only the coreset is "learned".
"""
from typing import List

import numpy as np
import timm
import torch
import torch.nn.functional as F
from tqdm import tqdm


class PatchFeatureBank:
    def __init__(self, backbone="wide_resnet50_2", layers=(2, 3), device="cuda", coreset_ratio=0.1):
        self.device = torch.device(device)
        self.encoder = timm.create_model(backbone, pretrained=True, features_only=True, out_indices=layers)
        self.encoder.to(self.device).eval()
        self.encoder.requires_grad_(False)
        self.coreset_ratio = coreset_ratio
        self.bank = None

    def _embed(self, images: torch.Tensor) -> torch.Tensor:
        feats: List[torch.Tensor] = self.encoder(images.to(self.device))
        size = feats[0].shape[-2:]
        feats = [F.avg_pool2d(f, 3, 1, 1) for f in feats]
        feats = [F.interpolate(f, size=size, mode="bilinear", align_corners=False) for f in feats]
        emb = torch.cat(feats, dim=1)
        return emb.permute(0, 2, 3, 1).reshape(-1, emb.size(1))

    @torch.inference_mode()
    def fit(self, loader):
        chunks = [self._embed(img).cpu() for img, _ in tqdm(loader, desc="embedding")]
        feats = torch.cat(chunks)
        self.bank = self._greedy_coreset(feats, int(len(feats) * self.coreset_ratio))
        return self

    def _greedy_coreset(self, feats, n):
        proj = torch.nn.Linear(feats.size(1), 128, bias=False)
        reduced = proj(feats.to(self.device))
        picked = [int(np.random.randint(len(reduced)))]
        dist = torch.cdist(reduced, reduced[picked]).squeeze(1)
        for _ in tqdm(range(n - 1), desc="coreset"):
            idx = int(dist.argmax())
            picked.append(idx)
            dist = torch.minimum(dist, torch.cdist(reduced, reduced[idx:idx + 1]).squeeze(1))
        return feats[picked].to(self.device)

    @torch.inference_mode()
    def score(self, images):
        b, _, h, w = images.shape
        emb = self._embed(images)
        nn_dist = torch.cdist(emb, self.bank).min(dim=1).values
        side = int(round((nn_dist.numel() // b) ** 0.5))
        amap = nn_dist.view(b, 1, side, side)
        amap = F.interpolate(amap, size=(h, w), mode="bilinear", align_corners=False)
        return amap.amax(dim=(1, 2, 3)), amap


if __name__ == "__main__":
    from sklearn.metrics import roc_auc_score
    from mvtec import mvtec_loaders

    train_loader, test_loader = mvtec_loaders("data/mvtec", category="bottle", image_size=224)
    bank = PatchFeatureBank().fit(train_loader)
    scores, labels = [], []
    for img, label in test_loader:
        s, _ = bank.score(img)
        scores.append(s.cpu())
        labels.append(label)
    print("image AUROC: %.4f" % roc_auc_score(torch.cat(labels).numpy(), torch.cat(scores).numpy()))
