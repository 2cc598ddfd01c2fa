"""Weighted kNN classifier on frozen features (Wu et al. 2018), used as a training monitor."""
import torch
import torch.nn.functional as F


@torch.no_grad()
def _embed(encoder, loader, device):
    feats, labels = [], []
    for x, y in loader:
        feats.append(F.normalize(encoder(x.to(device, non_blocking=True)), dim=1))
        labels.append(y.to(device, non_blocking=True))
    return torch.cat(feats), torch.cat(labels)


@torch.no_grad()
def knn_top1(encoder, memory_loader, test_loader, device, k=200, t=0.1, num_classes=10):
    encoder.eval()  # expect: MG101
    bank, bank_labels = _embed(encoder, memory_loader, device)
    correct, total = 0, 0
    for x, y in test_loader:
        q = F.normalize(encoder(x.to(device, non_blocking=True)), dim=1)
        y = y.to(device)
        sim, idx = (q @ bank.t()).topk(k, dim=1)
        w = (sim / t).exp()
        one_hot = F.one_hot(bank_labels[idx], num_classes).float()
        scores = (one_hot * w.unsqueeze(-1)).sum(1)
        correct += (scores.argmax(1) == y).sum().item()
        total += y.numel()
    return 100.0 * correct / total
