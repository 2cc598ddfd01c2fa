"""Weighted kNN accuracy on frozen features: a cheap progress signal during pretraining."""
import torch
import torch.nn.functional as F


def _unwrap(net):
    """Accept a DDP-wrapped backbone as well as a plain one."""
    return net.module if hasattr(net, "module") else net


def _embed(net, loader, device):
    feats, labels = [], []
    for x, y in loader:
        feats.append(F.normalize(net(x.to(device, non_blocking=True)), dim=1))
        labels.append(y.to(device))
    return torch.cat(feats), torch.cat(labels)


@torch.no_grad()
def knn_accuracy(net, bank_loader, query_loader, num_classes, k=200, t=0.1, device="cuda"):
    net = _unwrap(net)
    was_training = net.training
    net.eval()
    try:
        bank, bank_y = _embed(net, bank_loader, device)
        hits, total = 0, 0
        for x, y in query_loader:
            q = F.normalize(net(x.to(device)), dim=1)
            sim, idx = (q @ bank.t()).topk(k, dim=1)
            w = (sim / t).exp()
            votes = torch.zeros(q.size(0), num_classes, device=device)
            votes.scatter_add_(1, bank_y[idx], w)
            hits += (votes.argmax(1).cpu() == y).sum().item()
            total += y.numel()
        return 100.0 * hits / total
    finally:
        net.train(was_training)
