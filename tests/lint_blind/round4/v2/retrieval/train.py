#!/usr/bin/env python
"""Contrastive fine-tuning of the retriever with in-batch negatives.

Negatives are only shared inside a micro-batch; gradients of several micro-batches are
accumulated before each optimizer step. Recall@k on a small dev corpus is tracked
during training."""
import argparse
import json
import random

import torch
import torch.nn.functional as F
from transformers import AutoTokenizer, get_linear_schedule_with_warmup

from build_index import recall_at_k
from encoder import SentenceEncoder


def info_nce(q, p, temperature):
    logits = q @ p.t() / temperature
    return F.cross_entropy(logits, torch.arange(q.size(0), device=q.device))


def batches(pairs, size):
    random.shuffle(pairs)
    for i in range(0, len(pairs) - size + 1, size):
        yield pairs[i:i + size]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", required=True)
    ap.add_argument("--dev", required=True)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--micro-bs", type=int, default=64)
    ap.add_argument("--accum", type=int, default=4)
    ap.add_argument("--temperature", type=float, default=0.05)
    ap.add_argument("--eval-every", type=int, default=500)
    args = ap.parse_args()

    device = "cuda"
    tok = AutoTokenizer.from_pretrained("intfloat/e5-base")
    encoder = SentenceEncoder().to(device)
    pairs = [json.loads(l) for l in open(args.pairs)]
    dev = json.load(open(args.dev))

    opt = torch.optim.AdamW(encoder.parameters(), lr=2e-5, weight_decay=0.01)
    total = args.epochs * (len(pairs) // args.micro_bs) // args.accum
    sched = get_linear_schedule_with_warmup(opt, total // 10, total)

    def tokenize(texts, prefix):
        return tok([prefix + t for t in texts], padding=True, truncation=True,
                   max_length=256, return_tensors="pt").to(device)

    encoder.train()
    micro, updates = 0, 0
    for epoch in range(args.epochs):
        for chunk in batches(pairs, args.micro_bs):
            qb = tokenize([c["query"] for c in chunk], "query: ")
            pb = tokenize([c["positive"] for c in chunk], "passage: ")
            loss = info_nce(encoder(**qb), encoder(**pb), args.temperature) / args.accum
            loss.backward()
            micro += 1
            if micro % args.accum:
                continue
            opt.step()
            sched.step()
            opt.zero_grad()
            updates += 1
            if updates % args.eval_every == 0:
                scores = recall_at_k(encoder, tok, dev["queries"], dev["corpus"],
                                     [set(g) for g in dev["gold"]], device)
                print(f"epoch {epoch} update {updates} loss {loss.item() * args.accum:.4f} {scores}")
    torch.save(encoder.state_dict(), "ckpt/retriever.pt")


if __name__ == "__main__":
    main()
