"""Self-distillation (DINO-like) with a small ViT on ImageNet-1k subsets."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from ssl_utils import MultiCropWrapper, MultiCropAugmentation, cosine_schedule, build_loader


class MHSA(nn.Module):
    def __init__(self, dim, heads=6, qkv_bias=True, attn_drop=0.0, proj_drop=0.0):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.attn_drop = attn_drop
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(proj_drop)

    def forward(self, x):
        B, N, C = x.shape
        q, k, v = self.qkv(x).reshape(B, N, 3, self.heads, C // self.heads).permute(2, 0, 3, 1, 4)
        x = F.scaled_dot_product_attention(q, k, v, dropout_p=self.attn_drop)  # expect: MG202
        x = x.transpose(1, 2).reshape(B, N, C)
        return self.proj_drop(self.proj(x))


class Block(nn.Module):
    def __init__(self, dim, heads, mlp_ratio=4.0, drop=0.0, attn_drop=0.0):
        super().__init__()
        self.n1 = nn.LayerNorm(dim)
        self.attn = MHSA(dim, heads, attn_drop=attn_drop, proj_drop=drop)
        self.n2 = nn.LayerNorm(dim)
        hidden = int(dim * mlp_ratio)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Dropout(drop),
                                 nn.Linear(hidden, dim), nn.Dropout(drop))

    def forward(self, x):
        x = x + self.attn(self.n1(x))
        return x + self.mlp(self.n2(x))


class TinyViT(nn.Module):
    def __init__(self, img=224, patch=16, dim=384, depth=12, heads=6, attn_drop=0.1):
        super().__init__()
        self.patch_embed = nn.Conv2d(3, dim, patch, patch)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos = nn.Parameter(torch.randn(1, (img // patch) ** 2 + 1, dim) * 0.02)
        self.blocks = nn.ModuleList([Block(dim, heads, attn_drop=attn_drop) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim)
        self.embed_dim = dim

    def interpolate_pos(self, n_patches):
        if n_patches == self.pos.shape[1] - 1:
            return self.pos
        cls_pos, grid = self.pos[:, :1], self.pos[:, 1:]
        side, new = int(math.sqrt(grid.shape[1])), int(math.sqrt(n_patches))
        grid = grid.reshape(1, side, side, -1).permute(0, 3, 1, 2)
        grid = F.interpolate(grid, size=(new, new), mode="bicubic", align_corners=False)
        return torch.cat([cls_pos, grid.permute(0, 2, 3, 1).reshape(1, new * new, -1)], dim=1)

    def forward(self, x):
        x = self.patch_embed(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(x.size(0), -1, -1), x], dim=1)
        x = x + self.interpolate_pos(x.size(1) - 1)
        for blk in self.blocks:
            x = blk(x)
        return self.norm(x)[:, 0]


class DINOHead(nn.Module):
    def __init__(self, in_dim, out_dim=65536, hidden=2048, bottleneck=256):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(in_dim, hidden), nn.GELU(), nn.Linear(hidden, hidden),
                                 nn.GELU(), nn.Linear(hidden, bottleneck))
        self.last = nn.utils.weight_norm(nn.Linear(bottleneck, out_dim, bias=False))
        self.last.weight_g.data.fill_(1)

    def forward(self, x):
        return self.last(F.normalize(self.mlp(x), dim=-1))


def dino_loss(s_out, t_out, center, n_global, t_temp, s_temp=0.1):
    s_chunks = (s_out / s_temp).chunk(s_out.size(0) // t_out.size(0) * n_global)
    t_probs = F.softmax((t_out - center) / t_temp, dim=-1).detach().chunk(n_global)
    total, n = 0.0, 0
    for i, t in enumerate(t_probs):
        for j, s in enumerate(s_chunks):
            if i == j:
                continue
            total = total + torch.sum(-t * F.log_softmax(s, dim=-1), dim=-1).mean()
            n += 1
    return total / n


def train(epochs=100, device="cuda"):
    loader = build_loader(MultiCropAugmentation(global_size=224, local_size=96, n_local=8))
    student = MultiCropWrapper(TinyViT(), DINOHead(384)).to(device)
    teacher = MultiCropWrapper(TinyViT(), DINOHead(384)).to(device)
    teacher.load_state_dict(student.state_dict())
    teacher.eval()
    for p in teacher.parameters():
        p.requires_grad = False
    center = torch.zeros(1, 65536, device=device)
    opt = torch.optim.AdamW(student.parameters(), lr=5e-4, weight_decay=0.04)
    momentum = cosine_schedule(0.996, 1.0, epochs * len(loader))
    it = 0
    for ep in range(epochs):
        student.train()
        for crops, _ in loader:
            crops = [c.to(device, non_blocking=True) for c in crops]
            with torch.no_grad():
                t_out = teacher(crops[:2])
            s_out = student(crops)
            loss = dino_loss(s_out, t_out, center, 2, t_temp=0.04)
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(student.parameters(), 3.0)
            opt.step()
            with torch.no_grad():
                m = momentum[it]
                for ps, pt in zip(student.parameters(), teacher.parameters()):
                    pt.mul_(m).add_(ps.detach(), alpha=1 - m)
                center.mul_(0.9).add_(t_out.mean(0, keepdim=True), alpha=0.1)
            it += 1
        print(f"epoch {ep} loss {loss.item():.4f}")
