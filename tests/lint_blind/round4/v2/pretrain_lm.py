#!/usr/bin/env python
"""Pre-train a TransformerLM on memory-mapped token shards and track validation perplexity."""
import argparse
import math
import os
import time

import numpy as np
import torch
import torch.nn.functional as F

from lmkit.model import TransformerLM, LMConfig


class TokenShards:
    def __init__(self, root, block_size, batch_size):
        self.train = np.memmap(os.path.join(root, "train.bin"), dtype=np.uint16, mode="r")
        self.val = np.memmap(os.path.join(root, "val.bin"), dtype=np.uint16, mode="r")
        self.block_size = block_size
        self.batch_size = batch_size

    def sample(self, split, device):
        arr = self.train if split == "train" else self.val
        starts = torch.randint(len(arr) - self.block_size - 1, (self.batch_size,))
        x = torch.stack([torch.from_numpy(arr[s:s + self.block_size].astype(np.int64)) for s in starts])
        y = torch.stack([torch.from_numpy(arr[s + 1:s + 1 + self.block_size].astype(np.int64)) for s in starts])
        return x.to(device, non_blocking=True), y.to(device, non_blocking=True)


def cosine_lr(it, warmup, total, peak, floor):
    if it < warmup:
        return peak * (it + 1) / warmup
    progress = min(1.0, (it - warmup) / max(1, total - warmup))
    return floor + 0.5 * (peak - floor) * (1 + math.cos(math.pi * progress))


@torch.no_grad()
def held_out_ppl(lm, shards, n_batches, device):
    lm.eval()  # expect: MG101
    total_nll, total_tok = 0.0, 0
    for _ in range(n_batches):
        x, y = shards.sample("val", device)
        logits = lm(x)
        total_nll += F.cross_entropy(logits.flatten(0, 1), y.flatten(), reduction="sum").item()
        total_tok += y.numel()
    return math.exp(total_nll / total_tok)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="data/owt")
    ap.add_argument("--out", default="runs/lm")
    ap.add_argument("--block-size", type=int, default=1024)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--max-iters", type=int, default=60000)
    ap.add_argument("--warmup", type=int, default=2000)
    ap.add_argument("--lr", type=float, default=6e-4)
    ap.add_argument("--eval-interval", type=int, default=1000)
    ap.add_argument("--eval-batches", type=int, default=100)
    ap.add_argument("--dropout", type=float, default=0.1)
    args = ap.parse_args()

    device = "cuda" if torch.cuda.is_available() else "cpu"
    torch.manual_seed(1337)
    os.makedirs(args.out, exist_ok=True)

    shards = TokenShards(args.data, args.block_size, args.batch_size)
    lm = TransformerLM(LMConfig(block_size=args.block_size, dropout=args.dropout)).to(device)
    opt = torch.optim.AdamW(lm.parameters(), lr=args.lr, betas=(0.9, 0.95), weight_decay=0.1)
    scaler = torch.cuda.amp.GradScaler(enabled=device == "cuda")

    best = float("inf")
    lm.train()
    t0 = time.time()
    for it in range(args.max_iters):
        for group in opt.param_groups:
            group["lr"] = cosine_lr(it, args.warmup, args.max_iters, args.lr, args.lr / 10)

        if it % args.eval_interval == 0:
            ppl = held_out_ppl(lm, shards, args.eval_batches, device)
            print(f"iter {it}: val ppl {ppl:.2f} ({time.time() - t0:.0f}s)")
            if ppl < best:
                best = ppl
                torch.save({"model": lm.state_dict(), "iter": it, "ppl": ppl},
                           os.path.join(args.out, "best.pt"))

        x, y = shards.sample("train", device)
        with torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=device == "cuda"):
            logits = lm(x)
            loss = F.cross_entropy(logits.flatten(0, 1), y.flatten())
        scaler.scale(loss).backward()
        scaler.unscale_(opt)
        torch.nn.utils.clip_grad_norm_(lm.parameters(), 1.0)
        scaler.step(opt)
        scaler.update()
        opt.zero_grad(set_to_none=True)

        if it % 100 == 0:
            print(f"iter {it}: loss {loss.item():.4f}")


if __name__ == "__main__":
    main()
