"""Codebook quantizers and running-statistics layers for the VQ-VAE tokenizer."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class VectorQuantizerEMA(nn.Module):
    """VQ layer whose codebook is an exponential moving average of the assigned encodings
    (van den Oord et al. 2017, appendix). The codebook is only updated in training mode."""

    def __init__(self, num_codes, dim, decay=0.99, eps=1e-5, commitment=0.25):
        super().__init__()
        self.decay, self.eps, self.commitment = decay, eps, commitment
        embed = torch.randn(num_codes, dim)
        self.register_buffer("embed", embed)
        self.register_buffer("cluster_size", torch.zeros(num_codes))
        self.register_buffer("embed_avg", embed.clone())

    def forward(self, z):
        flat = z.reshape(-1, z.shape[-1])
        dist = flat.pow(2).sum(1, keepdim=True) - 2 * flat @ self.embed.t() + self.embed.pow(2).sum(1)[None]
        codes = dist.argmin(1)
        onehot = F.one_hot(codes, self.embed.shape[0]).type(flat.dtype)
        quant = self.embed[codes].view_as(z)

        if self.training:
            with torch.no_grad():
                self.cluster_size.mul_(self.decay).add_(onehot.sum(0), alpha=1 - self.decay)
                self.embed_avg.mul_(self.decay).add_(onehot.t() @ flat, alpha=1 - self.decay)
                n = self.cluster_size.sum()
                size = (self.cluster_size + self.eps) / (n + self.embed.shape[0] * self.eps) * n
                self.embed.copy_(self.embed_avg / size.unsqueeze(1))

        loss = self.commitment * F.mse_loss(z, quant.detach())
        quant = z + (quant - z).detach()
        return quant, loss, codes.view(z.shape[:-1])


class GumbelQuantizer(nn.Module):
    """Soft relaxed codes while training, hard argmax codes at inference."""

    def __init__(self, dim, num_codes, tau=1.0, straight_through=False, kl_weight=5e-4):
        super().__init__()
        self.proj = nn.Conv2d(dim, num_codes, 1)
        self.embed = nn.Embedding(num_codes, dim)
        self.tau, self.straight_through, self.kl_weight = tau, straight_through, kl_weight

    def forward(self, z):
        logits = self.proj(z)
        hard = self.straight_through if self.training else True
        tau = self.tau if self.training else 1.0
        soft = F.gumbel_softmax(logits, tau=tau, dim=1, hard=hard) if self.training else \
            F.one_hot(logits.argmax(1), logits.shape[1]).permute(0, 3, 1, 2).type(logits.dtype)
        zq = torch.einsum("bnhw,nd->bdhw", soft, self.embed.weight)
        qy = F.softmax(logits, dim=1)
        kl = self.kl_weight * (qy * torch.log(qy * logits.shape[1] + 1e-10)).sum(1).mean()
        return zq, kl, logits.argmax(1)


class BatchRenorm2d(nn.Module):
    """Batch renormalization (Ioffe 2017); running statistics are updated in training mode
    exactly like nn.BatchNorm2d, with PyTorch's momentum convention."""

    def __init__(self, num_features, eps=1e-5, momentum=0.01, r_max=3.0, d_max=5.0):
        super().__init__()
        self.eps, self.momentum, self.r_max, self.d_max = eps, momentum, r_max, d_max
        self.weight = nn.Parameter(torch.ones(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))
        self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))

    def forward(self, x):
        if self.training:
            mean = x.mean((0, 2, 3))
            var = x.var((0, 2, 3), unbiased=False)
            std = (var + self.eps).sqrt()
            running_std = (self.running_var + self.eps).sqrt()
            r = (std.detach() / running_std).clamp(1 / self.r_max, self.r_max)
            d = ((mean.detach() - self.running_mean) / running_std).clamp(-self.d_max, self.d_max)
            x_hat = (x - mean[None, :, None, None]) / std[None, :, None, None]
            x_hat = x_hat * r[None, :, None, None] + d[None, :, None, None]
            with torch.no_grad():
                n = x.numel() / x.shape[1]
                self.running_mean.lerp_(mean, self.momentum)
                self.running_var.lerp_(var * n / max(n - 1, 1), self.momentum)
                self.num_batches_tracked.add_(1)
        else:
            x_hat = (x - self.running_mean[None, :, None, None]) / (self.running_var[None, :, None, None]
                                                                    + self.eps).sqrt()
        return x_hat * self.weight[None, :, None, None] + self.bias[None, :, None, None]


class ResidualStack(nn.Module):
    def __init__(self, ch, n=2, p=0.1):
        super().__init__()
        self.blocks = nn.ModuleList([
            nn.Sequential(nn.ReLU(), nn.Conv2d(ch, ch // 2, 3, padding=1), BatchRenorm2d(ch // 2), nn.ReLU(),
                          nn.Dropout2d(p), nn.Conv2d(ch // 2, ch, 1))
            for _ in range(n)
        ])

    def forward(self, x):
        for blk in self.blocks:
            x = x + blk(x)
        return F.relu(x)
