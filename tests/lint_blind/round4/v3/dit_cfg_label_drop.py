"""Class-conditional latent diffusion transformer with classifier-free guidance."""
import copy

import torch
import torch.nn as nn
import torch.nn.functional as F

from dit_blocks import DiTBlock, FinalLayer, PatchEmbed, TimestepEmbedder, get_2d_sincos_pos_embed
from latent_diffusion import create_diffusion, load_vae


class LabelEmbedder(nn.Module):
    """Embeds class labels; randomly replaces labels by a null token for CFG training."""

    def __init__(self, num_classes, hidden, drop_prob=0.1):
        super().__init__()
        self.table = nn.Embedding(num_classes + 1, hidden)
        self.null_idx = num_classes
        self.drop_prob = drop_prob

    def forward(self, labels, force_drop_ids=None):
        if not self.training:
            self.drop_prob = 0.0  # expect: MG203
        if force_drop_ids is not None:
            labels = torch.where(force_drop_ids == 1, torch.full_like(labels, self.null_idx), labels)
        elif self.drop_prob > 0:
            drop = torch.rand(labels.shape[0], device=labels.device) < self.drop_prob
            labels = torch.where(drop, torch.full_like(labels, self.null_idx), labels)
        return self.table(labels)


class DiT(nn.Module):
    def __init__(self, input_size=32, patch=2, in_ch=4, hidden=768, depth=12, heads=12, num_classes=1000):
        super().__init__()
        self.in_ch, self.patch = in_ch, patch
        self.x_embed = PatchEmbed(input_size, patch, in_ch, hidden)
        self.t_embed = TimestepEmbedder(hidden)
        self.y_embed = LabelEmbedder(num_classes, hidden)
        n = self.x_embed.num_patches
        self.register_buffer("pos", torch.from_numpy(get_2d_sincos_pos_embed(hidden, int(n ** 0.5))).float()[None])
        self.blocks = nn.ModuleList([DiTBlock(hidden, heads) for _ in range(depth)])
        self.final = FinalLayer(hidden, patch, in_ch * 2)

    def unpatchify(self, x):
        c, p = self.in_ch * 2, self.patch
        h = w = int(x.shape[1] ** 0.5)
        x = x.reshape(x.shape[0], h, w, p, p, c)
        return torch.einsum("nhwpqc->nchpwq", x).reshape(x.shape[0], c, h * p, w * p)

    def forward(self, x, t, y):
        x = self.x_embed(x) + self.pos
        c = self.t_embed(t) + self.y_embed(y)
        for blk in self.blocks:
            x = blk(x, c)
        return self.unpatchify(self.final(x, c))

    def forward_with_cfg(self, x, t, y, scale):
        half = x[: len(x) // 2]
        both = torch.cat([half, half])
        out = self(both, t, y)
        eps, rest = out[:, :self.in_ch], out[:, self.in_ch:]
        cond, uncond = eps.chunk(2)
        guided = uncond + scale * (cond - uncond)
        return torch.cat([torch.cat([guided, guided]), rest], dim=1)


@torch.no_grad()
def update_ema(ema, model, decay=0.9999):
    ema_p = dict(ema.named_parameters())
    for name, p in model.named_parameters():
        ema_p[name].mul_(decay).add_(p.data, alpha=1 - decay)


def train(loader, steps=400_000, preview_every=20_000, device="cuda"):
    model = DiT().to(device)
    ema = copy.deepcopy(model).requires_grad_(False).eval()
    vae = load_vae("sd-vae-ft-ema").to(device).eval()
    diffusion = create_diffusion(timestep_respacing="")
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0)
    model.train()
    step = 0
    while step < steps:
        for imgs, y in loader:
            with torch.no_grad():
                z = vae.encode(imgs.to(device)).latent_dist.sample().mul_(0.18215)
            t = torch.randint(0, diffusion.num_timesteps, (z.shape[0],), device=device)
            loss = diffusion.training_losses(model, z, t, dict(y=y.to(device)))["loss"].mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            update_ema(ema, model)
            step += 1
            if step % preview_every == 0:
                model.eval()
                with torch.no_grad():
                    labels = torch.arange(8, device=device)
                    noise = torch.randn(8, 4, 32, 32, device=device)
                    latents = diffusion.p_sample_loop(model, noise.shape, noise, model_kwargs=dict(y=labels))
                    preview = vae.decode(latents / 0.18215).sample
                torch.save(preview.cpu(), f"preview_{step:07d}.pt")
                model.train()
                print(f"step {step} loss {loss.item():.4f}")
            if step >= steps:
                break
    return model, ema
