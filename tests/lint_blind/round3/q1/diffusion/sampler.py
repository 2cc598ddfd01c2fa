"""Noise schedules and samplers (DDPM training targets, DDIM + classifier-free guidance)."""
import math

import torch


def cosine_alphas_cumprod(T, s=0.008):
    steps = torch.arange(T + 1, dtype=torch.float64) / T
    f = torch.cos((steps + s) / (1 + s) * math.pi / 2) ** 2
    ac = f / f[0]
    betas = (1 - ac[1:] / ac[:-1]).clamp(max=0.999)
    return torch.cumprod(1 - betas, 0).float()


class GaussianDiffusion:
    def __init__(self, T=1000):
        self.T = T
        self.alphas_cumprod = cosine_alphas_cumprod(T)

    def q_sample(self, x0, t, noise):
        ac = self.alphas_cumprod.to(x0.device)[t].view(-1, 1, 1, 1)
        return ac.sqrt() * x0 + (1 - ac).sqrt() * noise

    def training_loss(self, net, x0, y):
        t = torch.randint(0, self.T, (x0.shape[0],), device=x0.device)
        noise = torch.randn_like(x0)
        eps = net(self.q_sample(x0, t, noise), t, y)
        return torch.mean((eps - noise) ** 2)

    @torch.no_grad()
    def ddim_sample(self, denoiser, labels, shape, steps=50, guidance=3.0, eta=0.0, null_label=None,
                    generator=None):
        """`denoiser` is expected to be in eval mode (the EMA copy, usually)."""
        device = labels.device
        ac = self.alphas_cumprod.to(device)
        x = torch.randn(shape, device=device, generator=generator)
        ts = torch.linspace(self.T - 1, 0, steps, device=device).long()
        null = torch.full_like(labels, null_label)
        for i, t in enumerate(ts):
            t_prev = ts[i + 1] if i + 1 < len(ts) else torch.tensor(-1, device=device)
            tt = t.expand(shape[0])
            eps_c, eps_u = denoiser(torch.cat([x, x]), torch.cat([tt, tt]),
                                    torch.cat([labels, null])).chunk(2)
            eps = eps_u + guidance * (eps_c - eps_u)
            a_t = ac[t]
            a_prev = ac[t_prev] if t_prev >= 0 else torch.tensor(1.0, device=device)
            x0 = ((x - (1 - a_t).sqrt() * eps) / a_t.sqrt()).clamp(-1, 1)
            sigma = eta * ((1 - a_prev) / (1 - a_t) * (1 - a_t / a_prev)).sqrt()
            x = a_prev.sqrt() * x0 + (1 - a_prev - sigma ** 2).sqrt() * eps
            if eta > 0 and t_prev >= 0:
                x = x + sigma * torch.randn(shape, device=device, generator=generator)
        return x
