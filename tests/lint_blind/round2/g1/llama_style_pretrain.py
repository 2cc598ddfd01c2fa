"""Pre-train a ~50M parameter LLaMA-style decoder on OpenWebText shards.

Perplexity on a held-out shard is reported every ``eval_every`` optimizer steps.
"""
import contextlib
import math
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

CFG = dict(dim=512, n_layers=8, n_heads=8, vocab=32000, seq=1024, dropout=0.1,
           lr=6e-4, min_lr=6e-5, warmup=2000, steps=60000, micro_bs=16, accum=4,
           eval_every=1000, eval_batches=50, out="ckpt/llama50m")


class RMSNorm(nn.Module):
    def __init__(self, dim, eps=1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope(x, cos, sin):
    x1, x2 = x[..., ::2], x[..., 1::2]
    return torch.stack([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1).flatten(-2)


class Attention(nn.Module):
    def __init__(self, dim, n_heads, dropout):
        super().__init__()
        self.h = n_heads
        self.wqkv = nn.Linear(dim, 3 * dim, bias=False)
        self.wo = nn.Linear(dim, dim, bias=False)
        self.p = dropout

    def forward(self, x, cos, sin):
        b, t, d = x.shape
        q, k, v = self.wqkv(x).view(b, t, 3, self.h, d // self.h).unbind(2)
        q, k = rope(q, cos, sin), rope(k, cos, sin)
        q, k, v = (z.transpose(1, 2) for z in (q, k, v))
        o = F.scaled_dot_product_attention(q, k, v, is_causal=True,
                                           dropout_p=self.p if self.training else 0.0)
        o = self.wo(o.transpose(1, 2).reshape(b, t, d))
        return F.dropout(o, self.p, training=self.training)


class SwiGLU(nn.Module):
    def __init__(self, dim, hidden, dropout):
        super().__init__()
        self.w1 = nn.Linear(dim, hidden, bias=False)
        self.w3 = nn.Linear(dim, hidden, bias=False)
        self.w2 = nn.Linear(hidden, dim, bias=False)
        self.p = dropout

    def forward(self, x):
        return F.dropout(self.w2(F.silu(self.w1(x)) * self.w3(x)), p=self.p, training=self.training)


class Layer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.n1, self.n2 = RMSNorm(c["dim"]), RMSNorm(c["dim"])
        self.attn = Attention(c["dim"], c["n_heads"], c["dropout"])
        self.ffn = SwiGLU(c["dim"], 4 * c["dim"] * 2 // 3, c["dropout"])

    def forward(self, x, cos, sin):
        x = x + self.attn(self.n1(x), cos, sin)
        return x + self.ffn(self.n2(x))


class Decoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.emb = nn.Embedding(c["vocab"], c["dim"])
        self.layers = nn.ModuleList(Layer(c) for _ in range(c["n_layers"]))
        self.norm = RMSNorm(c["dim"])
        self.lm_head = nn.Linear(c["dim"], c["vocab"], bias=False)
        hd = c["dim"] // c["n_heads"]
        freqs = 1.0 / (10000 ** (torch.arange(0, hd, 2).float() / hd))
        ang = torch.outer(torch.arange(c["seq"]).float(), freqs)
        self.register_buffer("cos", ang.cos()[None, :, None], persistent=False)
        self.register_buffer("sin", ang.sin()[None, :, None], persistent=False)

    def forward(self, idx, targets=None):
        t = idx.size(1)
        h = self.emb(idx)
        for layer in self.layers:
            h = layer(h, self.cos[:, :t], self.sin[:, :t])
        logits = self.lm_head(self.norm(h))
        if targets is None:
            return logits
        return F.cross_entropy(logits.flatten(0, 1), targets.flatten())


@contextlib.contextmanager
def frozen_mode(module):
    prev = module.training
    module.eval()
    try:
        with torch.no_grad():
            yield module
    finally:
        module.train(prev)


def shard_batch(arr, bs, seq, device):
    ix = np.random.randint(0, len(arr) - seq - 1, bs)
    x = torch.from_numpy(np.stack([arr[i:i + seq] for i in ix]).astype(np.int64))
    y = torch.from_numpy(np.stack([arr[i + 1:i + 1 + seq] for i in ix]).astype(np.int64))
    return x.to(device, non_blocking=True), y.to(device, non_blocking=True)


def lr_at(step, c):
    if step < c["warmup"]:
        return c["lr"] * step / c["warmup"]
    r = (step - c["warmup"]) / (c["steps"] - c["warmup"])
    return c["min_lr"] + 0.5 * (c["lr"] - c["min_lr"]) * (1 + math.cos(math.pi * r))


def heldout_ppl(net, arr, c, device):
    with frozen_mode(net):
        losses = [net(*shard_batch(arr, c["micro_bs"], c["seq"], device)).item()
                  for _ in range(c["eval_batches"])]
    return math.exp(sum(losses) / len(losses))


def run():
    device = "cuda"
    train_arr = np.memmap("data/owt/train.bin", dtype=np.uint16, mode="r")
    val_arr = np.memmap("data/owt/val.bin", dtype=np.uint16, mode="r")
    net = Decoder(CFG).to(device)
    opt = torch.optim.AdamW(net.parameters(), lr=CFG["lr"], betas=(0.9, 0.95), weight_decay=0.1, fused=True)
    os.makedirs(CFG["out"], exist_ok=True)

    net.train()
    t0 = time.time()
    for step in range(1, CFG["steps"] + 1):
        for g in opt.param_groups:
            g["lr"] = lr_at(step, CFG)
        for _ in range(CFG["accum"]):
            with torch.autocast("cuda", dtype=torch.bfloat16):
                loss = net(*shard_batch(train_arr, CFG["micro_bs"], CFG["seq"], device)) / CFG["accum"]
            loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        if step % CFG["eval_every"] == 0:
            ppl = heldout_ppl(net, val_arr, CFG, device)
            print(f"step {step} train {loss.item() * CFG['accum']:.3f} val ppl {ppl:.2f} ({time.time() - t0:.0f}s)")
            torch.save({"model": net.state_dict(), "step": step}, os.path.join(CFG["out"], "last.pt"))


if __name__ == "__main__":
    run()
