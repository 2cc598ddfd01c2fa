import torch
import torch.nn.functional as F


def _topk_correct(logits, target, ks):
    maxk = max(ks)
    _, pred = logits.topk(maxk, 1, True, True)
    hit = pred.t().eq(target.view(1, -1).expand_as(pred.t()))
    return [hit[:k].reshape(-1).float().sum().item() for k in ks]


def evaluate(net, loader, device, ks=(1, 5)):
    """Top-k accuracy and mean loss of `net` on `loader`."""
    net.eval()  # expect: MG101
    totals = [0.0] * len(ks)
    loss_sum, n = 0.0, 0
    with torch.no_grad():
        for x, y in loader:
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            logits = net(x)
            loss_sum += F.cross_entropy(logits, y, reduction="sum").item()
            for i, c in enumerate(_topk_correct(logits, y, ks)):
                totals[i] += c
            n += y.size(0)
    out = {f"top{k}": t / n for k, t in zip(ks, totals)}
    out["loss"] = loss_sum / n
    return out
