import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class MHSA(nn.Module):
    def __init__(self, dim, heads=8, attn_drop=0.0, proj_drop=0.0):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)
        self.attn_drop = attn_drop
        self.proj_drop = nn.Dropout(proj_drop)

    def forward(self, x):
        B, N, C = x.shape
        q, k, v = self.qkv(x).reshape(B, N, 3, self.heads, C // self.heads).permute(2, 0, 3, 1, 4)
        x = F.scaled_dot_product_attention(  # expect: MG202
            q, k, v, dropout_p=self.attn_drop
        )
        x = x.transpose(1, 2).reshape(B, N, C)
        return self.proj_drop(self.proj(x))


class Block(nn.Module):
    def __init__(self, dim, heads, mlp_ratio=4.0, drop=0.1):
        super().__init__()
        self.n1, self.n2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.attn = MHSA(dim, heads, attn_drop=drop, proj_drop=drop)
        hidden = int(dim * mlp_ratio)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Dropout(drop), nn.Linear(hidden, dim))

    def forward(self, x):
        x = x + self.attn(self.n1(x))
        return x + self.mlp(self.n2(x))


class MaskedAutoencoder(nn.Module):
    def __init__(self, img=224, patch=16, dim=768, depth=12, heads=12, dec_dim=512, dec_depth=8, mask_ratio=0.75):
        super().__init__()
        self.patch, self.mask_ratio = patch, mask_ratio
        n = (img // patch) ** 2
        self.embed = nn.Conv2d(3, dim, patch, patch)
        self.cls = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos = nn.Parameter(torch.randn(1, n + 1, dim) * 0.02, requires_grad=False)
        self.encoder = nn.ModuleList([Block(dim, heads) for _ in range(depth)])
        self.enc_norm = nn.LayerNorm(dim)
        self.to_dec = nn.Linear(dim, dec_dim)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, dec_dim))
        self.dec_pos = nn.Parameter(torch.randn(1, n + 1, dec_dim) * 0.02, requires_grad=False)
        self.decoder = nn.ModuleList([Block(dec_dim, 16) for _ in range(dec_depth)])
        self.dec_norm = nn.LayerNorm(dec_dim)
        self.to_pixels = nn.Linear(dec_dim, patch * patch * 3)

    def patchify(self, imgs):
        p = self.patch
        h = imgs.shape[2] // p
        x = imgs.reshape(imgs.shape[0], 3, h, p, h, p)
        return torch.einsum("nchpwq->nhwpqc", x).reshape(imgs.shape[0], h * h, p * p * 3)

    def random_masking(self, x):
        B, N, D = x.shape
        keep = int(N * (1 - self.mask_ratio))
        ids_shuffle = torch.rand(B, N, device=x.device).argsort(1)
        ids_restore = ids_shuffle.argsort(1)
        kept = torch.gather(x, 1, ids_shuffle[:, :keep, None].expand(-1, -1, D))
        mask = torch.ones(B, N, device=x.device)
        mask[:, :keep] = 0
        return kept, torch.gather(mask, 1, ids_restore), ids_restore

    def forward(self, imgs):
        x = self.embed(imgs).flatten(2).transpose(1, 2) + self.pos[:, 1:]
        x, mask, ids_restore = self.random_masking(x)
        x = torch.cat([(self.cls + self.pos[:, :1]).expand(x.shape[0], -1, -1), x], 1)
        for blk in self.encoder:
            x = blk(x)
        x = self.to_dec(self.enc_norm(x))
        n_mask = ids_restore.shape[1] + 1 - x.shape[1]
        y = torch.cat([x[:, 1:], self.mask_token.expand(x.shape[0], n_mask, -1)], 1)
        y = torch.gather(y, 1, ids_restore[..., None].expand(-1, -1, x.shape[2]))
        x = torch.cat([x[:, :1], y], 1) + self.dec_pos
        for blk in self.decoder:
            x = blk(x)
        pred = self.to_pixels(self.dec_norm(x))[:, 1:]
        target = self.patchify(imgs)
        target = (target - target.mean(-1, keepdim=True)) / (target.var(-1, keepdim=True) + 1e-6).sqrt()
        loss = (((pred - target) ** 2).mean(-1) * mask).sum() / mask.sum()
        return loss, pred, mask


def pretrain(loader, epochs=400, base_lr=1.5e-4, warmup=40, device="cuda"):
    mae = MaskedAutoencoder().to(device)
    opt = torch.optim.AdamW(mae.parameters(), lr=base_lr, betas=(0.9, 0.95), weight_decay=0.05)
    steps_per_epoch = len(loader)
    for epoch in range(epochs):
        mae.train()
        for i, (imgs, _) in enumerate(loader):
            t = epoch + i / steps_per_epoch
            lr = base_lr * (t / warmup if t < warmup else 0.5 * (1 + math.cos(math.pi * (t - warmup) / (epochs - warmup))))
            for g in opt.param_groups:
                g["lr"] = lr
            with torch.autocast("cuda", dtype=torch.bfloat16):
                loss, _, _ = mae(imgs.to(device, non_blocking=True))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        print(f"epoch {epoch} loss {loss.item():.4f}")
    return mae
