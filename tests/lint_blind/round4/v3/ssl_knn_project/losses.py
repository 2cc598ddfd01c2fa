import torch
import torch.nn as nn
import torch.nn.functional as F


class NTXent(nn.Module):
    def __init__(self, temperature=0.5):
        super().__init__()
        self.t = temperature

    def forward(self, z1, z2):
        z = F.normalize(torch.cat([z1, z2]), dim=1)
        n = z1.size(0)
        sim = z @ z.t() / self.t
        sim.fill_diagonal_(float("-inf"))
        targets = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)]).to(z.device)
        return F.cross_entropy(sim, targets)


class SupConLoss(nn.Module):
    """Supervised contrastive loss (Khosla et al.), used for the label-aware ablation."""

    def __init__(self, temperature=0.07):
        super().__init__()
        self.t = temperature

    def forward(self, z1, z2, labels):
        z = F.normalize(torch.cat([z1, z2]), dim=1)
        y = torch.cat([labels, labels])
        logits = z @ z.t() / self.t
        self_mask = torch.eye(len(z), dtype=torch.bool, device=z.device)
        logits = logits.masked_fill(self_mask, float("-inf"))
        pos = (y[:, None] == y[None, :]) & ~self_mask
        log_prob = logits - torch.logsumexp(logits, dim=1, keepdim=True)
        return -(log_prob.masked_fill(~pos, 0).sum(1) / pos.sum(1).clamp_min(1)).mean()
