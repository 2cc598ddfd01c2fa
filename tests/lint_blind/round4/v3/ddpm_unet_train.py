import copy
import math
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.utils import save_image

from diffusion_utils import GaussianDiffusion, cosine_beta_schedule, cycle
from datasets_local import get_cifar_loader


def timestep_embedding(t, dim):
    half = dim // 2
    freqs = torch.exp(-math.log(10000) * torch.arange(half, device=t.device) / half)
    args = t.float()[:, None] * freqs[None]
    return torch.cat([args.sin(), args.cos()], dim=-1)


class ResBlock(nn.Module):
    def __init__(self, cin, cout, temb_dim, dropout=0.1):
        super().__init__()
        self.norm1 = nn.GroupNorm(32, cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.temb = nn.Linear(temb_dim, cout)
        self.norm2 = nn.GroupNorm(32, cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()
        self.dropout = dropout

    def forward(self, x, emb):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.temb(F.silu(emb))[:, :, None, None]
        h = F.silu(self.norm2(h))
        h = F.dropout(h, p=self.dropout)  # expect: MG201
        return self.conv2(h) + self.skip(x)


class TinyUNet(nn.Module):
    def __init__(self, ch=128, mults=(1, 2, 2), dropout=0.1):
        super().__init__()
        self.ch = ch
        tdim = ch * 4
        self.time_mlp = nn.Sequential(nn.Linear(ch, tdim), nn.SiLU(), nn.Linear(tdim, tdim))
        self.inc = nn.Conv2d(3, ch, 3, padding=1)
        self.down, self.up = nn.ModuleList(), nn.ModuleList()
        chans = [ch]
        cur = ch
        for m in mults:
            self.down.append(ResBlock(cur, ch * m, tdim, dropout))
            cur = ch * m
            chans.append(cur)
        self.mid = ResBlock(cur, cur, tdim, dropout)
        for m in reversed(mults):
            self.up.append(ResBlock(cur + chans.pop(), ch * m, tdim, dropout))
            cur = ch * m
        self.out = nn.Sequential(nn.GroupNorm(32, cur), nn.SiLU(), nn.Conv2d(cur, 3, 3, padding=1))

    def forward(self, x, t):
        emb = self.time_mlp(timestep_embedding(t, self.ch))
        h = self.inc(x)
        skips = [h]
        for blk in self.down:
            h = blk(h, emb)
            skips.append(h)
        h = self.mid(h, emb)
        for blk in self.up:
            h = blk(torch.cat([h, skips.pop()], 1), emb)
        return self.out(h)


@torch.no_grad()
def ema_update(target, source, decay):
    for pt, ps in zip(target.parameters(), source.parameters()):
        pt.mul_(decay).add_(ps.detach(), alpha=1 - decay)


def run(workdir="runs/ddpm_c10", steps=800_000, lr=2e-4, bs=128, ema_decay=0.9999, sample_every=10_000):
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    device = "cuda"
    net = TinyUNet().to(device)
    ema_net = copy.deepcopy(net).eval().requires_grad_(False)
    diffusion = GaussianDiffusion(cosine_beta_schedule(1000), device=device)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    data = cycle(get_cifar_loader(bs))

    net.train()
    for step in range(1, steps + 1):
        x0 = next(data).to(device)
        t = torch.randint(0, diffusion.num_timesteps, (x0.size(0),), device=device)
        noise = torch.randn_like(x0)
        pred = net(diffusion.q_sample(x0, t, noise), t)
        loss = F.mse_loss(pred, noise)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        ema_update(ema_net, net, ema_decay)

        if step % sample_every == 0:
            samples = diffusion.p_sample_loop(ema_net, (64, 3, 32, 32))
            save_image((samples + 1) / 2, workdir / f"sample_{step:07d}.png", nrow=8)
            torch.save({"net": net.state_dict(), "ema": ema_net.state_dict(), "step": step}, workdir / "ckpt.pt")
            print(f"step {step} loss {loss.item():.4f}")


if __name__ == "__main__":
    run()
