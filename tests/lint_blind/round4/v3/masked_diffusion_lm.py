"""Masked (absorbing-state) discrete diffusion language model, small config for OpenWebText shards."""
import math
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

cfg = dict(vocab=50304, mask_id=50257, ctx=512, d=768, heads=12, layers=12, dropout=0.1,
           lr=3e-4, iters=200_000, eval_every=1000, eval_batches=100, batch=32, data="data/owt")


class BidirectionalAttention(nn.Module):
    def __init__(self, d, heads, dropout):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(d, 3 * d, bias=False)
        self.o = nn.Linear(d, d, bias=False)
        self.dropout = dropout

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.heads, C // self.heads).transpose(1, 2) for t in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=False,
                                           dropout_p=self.dropout if self.training else 0.0)
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return F.dropout(self.o(y), self.dropout, training=self.training)


class TimeConditionedBlock(nn.Module):
    def __init__(self, d, heads, dropout):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.attn = BidirectionalAttention(d, heads, dropout)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d), nn.Dropout(dropout))
        self.ada = nn.Linear(d, 2 * d)

    def forward(self, x, temb):
        scale, shift = self.ada(temb).unsqueeze(1).chunk(2, -1)
        x = x + self.attn(self.ln1(x) * (1 + scale) + shift)
        return x + self.mlp(self.ln2(x))


class MaskedDiffusionLM(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.tok = nn.Embedding(c["vocab"], c["d"])
        self.pos = nn.Embedding(c["ctx"], c["d"])
        self.t_mlp = nn.Sequential(nn.Linear(1, c["d"]), nn.SiLU(), nn.Linear(c["d"], c["d"]))
        self.blocks = nn.ModuleList([TimeConditionedBlock(c["d"], c["heads"], c["dropout"]) for _ in range(c["layers"])])
        self.ln = nn.LayerNorm(c["d"])
        self.head = nn.Linear(c["d"], c["vocab"], bias=False)
        self.head.weight = self.tok.weight

    def forward(self, x, t):
        h = self.tok(x) + self.pos(torch.arange(x.size(1), device=x.device))
        temb = self.t_mlp(t[:, None])
        for blk in self.blocks:
            h = blk(h, temb)
        return self.head(self.ln(h))


def diffusion_loss(model, x0, mask_id):
    t = torch.rand(x0.size(0), device=x0.device).clamp_min(1e-3)
    masked = torch.rand(x0.shape, device=x0.device) < t[:, None]
    xt = torch.where(masked, torch.full_like(x0, mask_id), x0)
    logits = model(xt, t)
    nll = F.cross_entropy(logits.transpose(1, 2), x0, reduction="none")
    return ((nll * masked) / t[:, None]).sum() / x0.numel()


def get_batch(split):
    arr = np.memmap(os.path.join(cfg["data"], f"{split}.bin"), dtype=np.uint16, mode="r")
    ix = np.random.randint(0, len(arr) - cfg["ctx"], cfg["batch"])
    return torch.from_numpy(np.stack([arr[i:i + cfg["ctx"]].astype(np.int64) for i in ix])).cuda(non_blocking=True)


@torch.no_grad()
def held_out_bound(model):
    model.eval()
    out = {}
    for split in ("train", "val"):
        losses = [diffusion_loss(model, get_batch(split), cfg["mask_id"]).item() for _ in range(cfg["eval_batches"])]
        out[split] = float(np.mean(losses))
    model.train()
    return out


def main():
    torch.manual_seed(1337)
    model = MaskedDiffusionLM(cfg).cuda()
    opt = torch.optim.AdamW(model.parameters(), lr=cfg["lr"], betas=(0.9, 0.95), weight_decay=0.1)
    model.train()
    t0 = time.time()
    for it in range(cfg["iters"]):
        lr = cfg["lr"] * min(1.0, it / 2000) * 0.5 * (1 + math.cos(math.pi * it / cfg["iters"]))
        for g in opt.param_groups:
            g["lr"] = lr
        if it % cfg["eval_every"] == 0:
            bound = held_out_bound(model)
            print(f"it {it}: train {bound['train']:.4f} val {bound['val']:.4f} ({time.time() - t0:.0f}s)")
        with torch.autocast("cuda", dtype=torch.bfloat16):
            loss = diffusion_loss(model, get_batch("train"), cfg["mask_id"])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    torch.save(model.state_dict(), "mdlm_small.pt")


if __name__ == "__main__":
    main()
