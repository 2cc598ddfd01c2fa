#!/usr/bin/env python
"""SST-2 fine-tuning with a hand-written loop (no Trainer), step-based evaluation."""
import argparse
import math
import os

import numpy as np
import torch
from datasets import load_dataset
from torch.utils.data import DataLoader
from transformers import (AutoModelForSequenceClassification, AutoTokenizer,
                          DataCollatorWithPadding, get_linear_schedule_with_warmup)
import wandb


def tokenize_splits(tok, max_len):
    raw = load_dataset("glue", "sst2")

    def enc(batch):
        return tok(batch["sentence"], truncation=True, max_length=max_len)

    ds = raw.map(enc, batched=True, remove_columns=["sentence", "idx"])
    ds = ds.rename_column("label", "labels")
    ds.set_format("torch")
    return ds["train"], ds["validation"]


def log_dev_accuracy(clf, dev_dl, device, global_step):
    clf.train(False)  # expect: MG101
    hits, total, loss_sum = 0, 0, 0.0
    with torch.no_grad():
        for batch in dev_dl:
            batch = {k: v.to(device) for k, v in batch.items()}
            out = clf(**batch)
            loss_sum += out.loss.item() * batch["labels"].size(0)
            hits += (out.logits.argmax(-1) == batch["labels"]).sum().item()
            total += batch["labels"].size(0)
    acc = hits / total
    wandb.log({"dev/acc": acc, "dev/loss": loss_sum / total}, step=global_step)
    return acc


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model_name", default="roberta-base")
    ap.add_argument("--max_len", type=int, default=128)
    ap.add_argument("--bs", type=int, default=32)
    ap.add_argument("--lr", type=float, default=2e-5)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--warmup_ratio", type=float, default=0.06)
    ap.add_argument("--eval_steps", type=int, default=500)
    ap.add_argument("--grad_accum", type=int, default=1)
    ap.add_argument("--out_dir", default="ckpt/sst2")
    args = ap.parse_args()

    wandb.init(project="sst2-plain", config=vars(args))
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    tok = AutoTokenizer.from_pretrained(args.model_name)
    clf = AutoModelForSequenceClassification.from_pretrained(args.model_name, num_labels=2).to(device)

    train_ds, dev_ds = tokenize_splits(tok, args.max_len)
    collate = DataCollatorWithPadding(tok)
    train_dl = DataLoader(train_ds, batch_size=args.bs, shuffle=True, collate_fn=collate)
    dev_dl = DataLoader(dev_ds, batch_size=128, collate_fn=collate)

    no_decay = ("bias", "LayerNorm.weight")
    groups = [
        {"params": [p for n, p in clf.named_parameters() if not any(nd in n for nd in no_decay)], "weight_decay": 0.01},
        {"params": [p for n, p in clf.named_parameters() if any(nd in n for nd in no_decay)], "weight_decay": 0.0},
    ]
    optim = torch.optim.AdamW(groups, lr=args.lr)
    updates = math.ceil(len(train_dl) / args.grad_accum) * args.epochs
    sched = get_linear_schedule_with_warmup(optim, int(args.warmup_ratio * updates), updates)

    best, global_step = 0.0, 0
    clf.train()
    for epoch in range(args.epochs):
        for i, batch in enumerate(train_dl):
            batch = {k: v.to(device) for k, v in batch.items()}
            loss = clf(**batch).loss / args.grad_accum
            loss.backward()
            if (i + 1) % args.grad_accum:
                continue
            torch.nn.utils.clip_grad_norm_(clf.parameters(), 1.0)
            optim.step()
            sched.step()
            optim.zero_grad()
            global_step += 1
            if global_step % 50 == 0:
                wandb.log({"train/loss": loss.item() * args.grad_accum, "lr": sched.get_last_lr()[0]}, step=global_step)
            if global_step % args.eval_steps == 0:
                acc = log_dev_accuracy(clf, dev_dl, device, global_step)
                if acc > best:
                    best = acc
                    clf.save_pretrained(os.path.join(args.out_dir, "best"))
                    tok.save_pretrained(os.path.join(args.out_dir, "best"))
    print("best dev acc: %.4f" % best)


if __name__ == "__main__":
    main()
