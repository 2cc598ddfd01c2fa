#!/usr/bin/env python
# Fine-tune roberta-base on SST-2 with a plain PyTorch loop (no Trainer),
# mixed precision and gradient accumulation.
import argparse
import json
import os
import random

import numpy as np
import torch
from torch.utils.data import DataLoader
from datasets import load_dataset
from transformers import (AutoModelForSequenceClassification, AutoTokenizer,
                          DataCollatorWithPadding, get_linear_schedule_with_warmup)


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)


def build_loaders(tok, bs, max_len):
    raw = load_dataset("glue", "sst2")

    def enc(ex):
        return tok(ex["sentence"], truncation=True, max_length=max_len)

    ds = raw.map(enc, batched=True, remove_columns=["sentence", "idx"])
    ds = ds.rename_column("label", "labels")
    coll = DataCollatorWithPadding(tok)
    tr = DataLoader(ds["train"], batch_size=bs, shuffle=True, collate_fn=coll)
    va = DataLoader(ds["validation"], batch_size=2 * bs, collate_fn=coll)
    return tr, va


def score_dev_set(clf, batches, device):
    hits, seen, loss_sum = 0, 0, 0.0
    with torch.no_grad():
        for batch in batches:
            batch = {k: v.to(device) for k, v in batch.items()}
            out = clf(**batch)  # expect: MG102
            loss_sum += out.loss.item() * batch["labels"].size(0)
            hits += (out.logits.argmax(-1) == batch["labels"]).sum().item()
            seen += batch["labels"].size(0)
    return {"acc": hits / seen, "loss": loss_sum / seen}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model_name", default="roberta-base")
    p.add_argument("--lr", type=float, default=2e-5)
    p.add_argument("--bs", type=int, default=16)
    p.add_argument("--accum", type=int, default=2)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--warmup_ratio", type=float, default=0.06)
    p.add_argument("--out", default="runs/sst2")
    p.add_argument("--seed", type=int, default=13)
    a = p.parse_args()
    seed_everything(a.seed)
    os.makedirs(a.out, exist_ok=True)

    device = "cuda" if torch.cuda.is_available() else "cpu"
    tok = AutoTokenizer.from_pretrained(a.model_name)
    clf = AutoModelForSequenceClassification.from_pretrained(a.model_name, num_labels=2).to(device)
    train_dl, dev_dl = build_loaders(tok, a.bs, 128)

    no_decay = ("bias", "LayerNorm.weight")
    groups = [
        {"params": [p for n, p in clf.named_parameters() if not n.endswith(no_decay)], "weight_decay": 0.01},
        {"params": [p for n, p in clf.named_parameters() if n.endswith(no_decay)], "weight_decay": 0.0},
    ]
    optim = torch.optim.AdamW(groups, lr=a.lr)
    total = len(train_dl) // a.accum * a.epochs
    sched = get_linear_schedule_with_warmup(optim, int(a.warmup_ratio * total), total)
    scaler = torch.cuda.amp.GradScaler(enabled=device == "cuda")

    history, best = [], 0.0
    for ep in range(a.epochs):
        clf.train()
        for i, batch in enumerate(train_dl):
            batch = {k: v.to(device) for k, v in batch.items()}
            with torch.autocast(device_type="cuda", enabled=device == "cuda"):
                loss = clf(**batch).loss / a.accum
            scaler.scale(loss).backward()
            if (i + 1) % a.accum == 0:
                scaler.unscale_(optim)
                torch.nn.utils.clip_grad_norm_(clf.parameters(), 1.0)
                scaler.step(optim)
                scaler.update()
                optim.zero_grad()
                sched.step()

        metrics = score_dev_set(clf, dev_dl, device)
        history.append({"epoch": ep, **metrics})
        print(json.dumps(history[-1]))
        if metrics["acc"] > best:
            best = metrics["acc"]
            clf.save_pretrained(a.out)
            tok.save_pretrained(a.out)

    with open(os.path.join(a.out, "history.json"), "w") as fh:
        json.dump(history, fh, indent=1)


if __name__ == "__main__":
    main()
