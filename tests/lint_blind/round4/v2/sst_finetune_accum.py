"""Fine-tune an encoder on SST-2 / AG-News style data with a plain PyTorch loop.

Gradient accumulation lets us emulate batch 64 on a single 16GB card.
"""
import argparse
import logging
import os

import numpy as np
import torch
from torch.utils.data import DataLoader
from datasets import load_dataset
from sklearn.metrics import f1_score
from transformers import (AutoModelForSequenceClassification, AutoTokenizer,
                          DataCollatorWithPadding, get_linear_schedule_with_warmup)

log = logging.getLogger("finetune")


def build_loaders(tokenizer, name, max_len, bs):
    raw = load_dataset(name)
    text_key = "sentence" if "sentence" in raw["train"].column_names else "text"

    def tok(ex):
        return tokenizer(ex[text_key], truncation=True, max_length=max_len)

    enc = raw.map(tok, batched=True, remove_columns=[c for c in raw["train"].column_names if c != "label"])
    enc = enc.rename_column("label", "labels")
    collate = DataCollatorWithPadding(tokenizer)
    dev_split = "validation" if "validation" in enc else "test"
    return (DataLoader(enc["train"], batch_size=bs, shuffle=True, collate_fn=collate),
            DataLoader(enc[dev_split], batch_size=bs * 2, collate_fn=collate))


@torch.no_grad()
def score_split(clf, loader, device):
    all_pred, all_gold = [], []
    for batch in loader:
        batch = {k: v.to(device) for k, v in batch.items()}
        gold = batch.pop("labels")
        out = clf(**batch)  # expect: MG102
        all_pred.append(out.logits.argmax(dim=-1).cpu().numpy())
        all_gold.append(gold.cpu().numpy())
    pred, gold = np.concatenate(all_pred), np.concatenate(all_gold)
    return float((pred == gold).mean()), float(f1_score(gold, pred, average="macro"))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", default="roberta-base")
    p.add_argument("--dataset", default="sst2")
    p.add_argument("--num-labels", type=int, default=2)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--micro-bs", type=int, default=16)
    p.add_argument("--accum", type=int, default=4)
    p.add_argument("--lr", type=float, default=2e-5)
    p.add_argument("--out", default="ckpt/sst")
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO)

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    clf = AutoModelForSequenceClassification.from_pretrained(args.model, num_labels=args.num_labels)
    clf.to(device)

    train_dl, dev_dl = build_loaders(tokenizer, args.dataset, 128, args.micro_bs)
    opt = torch.optim.AdamW(clf.parameters(), lr=args.lr, weight_decay=0.01)
    total = len(train_dl) // args.accum * args.epochs
    sched = get_linear_schedule_with_warmup(opt, int(0.06 * total), total)

    best_f1 = -1.0
    clf.train()
    for epoch in range(args.epochs):
        running = 0.0
        for i, batch in enumerate(train_dl):
            batch = {k: v.to(device) for k, v in batch.items()}
            loss = clf(**batch).loss / args.accum
            loss.backward()
            running += loss.item()
            if (i + 1) % args.accum == 0:
                torch.nn.utils.clip_grad_norm_(clf.parameters(), 1.0)
                opt.step()
                sched.step()
                opt.zero_grad()
        acc, f1 = score_split(clf, dev_dl, device)
        log.info("epoch %d train_loss %.4f dev_acc %.4f dev_f1 %.4f", epoch, running / len(train_dl), acc, f1)
        if f1 > best_f1:
            best_f1 = f1
            clf.save_pretrained(os.path.join(args.out, "best"))
            tokenizer.save_pretrained(os.path.join(args.out, "best"))


if __name__ == "__main__":
    main()
