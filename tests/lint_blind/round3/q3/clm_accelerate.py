#!/usr/bin/env python
# Causal-LM continued pretraining with HF Accelerate.
# accelerate launch clm_accelerate.py --model gpt2-medium --train_file data/train.jsonl
import argparse
import math
import os

import torch
from accelerate import Accelerator
from accelerate.utils import set_seed
from datasets import load_dataset
from torch.utils.data import DataLoader
from transformers import (AutoModelForCausalLM, AutoTokenizer, default_data_collator,
                          get_cosine_schedule_with_warmup)


def parse():
    p = argparse.ArgumentParser()
    p.add_argument("--model", default="gpt2")
    p.add_argument("--train_file", required=True)
    p.add_argument("--valid_file", default=None)
    p.add_argument("--block", type=int, default=1024)
    p.add_argument("--bs", type=int, default=8)
    p.add_argument("--grad_accum", type=int, default=4)
    p.add_argument("--lr", type=float, default=3e-5)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--eval_every", type=int, default=1000)
    p.add_argument("--out", default="ckpt/clm")
    p.add_argument("--seed", type=int, default=1234)
    return p.parse_args()


def perplexity(lm, loader, acc):
    losses = []
    for batch in loader:
        with torch.no_grad():
            out = lm(**batch)  # expect: MG102
        n = batch["input_ids"].shape[0]
        losses.append(acc.gather_for_metrics(out.loss.repeat(n)))
    losses = torch.cat(losses)
    try:
        return math.exp(torch.mean(losses).item())
    except OverflowError:
        return float("inf")


def group_texts(examples, block):
    joined = {k: sum(examples[k], []) for k in examples.keys()}
    total = (len(joined["input_ids"]) // block) * block
    res = {k: [t[i:i + block] for i in range(0, total, block)] for k, t in joined.items()}
    res["labels"] = res["input_ids"].copy()
    return res


def main():
    args = parse()
    acc = Accelerator(gradient_accumulation_steps=args.grad_accum, mixed_precision="bf16")
    set_seed(args.seed)

    tok = AutoTokenizer.from_pretrained(args.model)
    files = {"train": args.train_file}
    if args.valid_file:
        files["validation"] = args.valid_file
    raw = load_dataset("json", data_files=files)
    if "validation" not in raw:
        raw = raw["train"].train_test_split(test_size=0.01, seed=args.seed)
        raw["validation"] = raw.pop("test")

    with acc.main_process_first():
        tokd = raw.map(lambda ex: tok(ex["text"]), batched=True, remove_columns=["text"])
        lm_ds = tokd.map(lambda ex: group_texts(ex, args.block), batched=True)

    train_dl = DataLoader(lm_ds["train"], shuffle=True, batch_size=args.bs,
                          collate_fn=default_data_collator)
    valid_dl = DataLoader(lm_ds["validation"], batch_size=args.bs,
                          collate_fn=default_data_collator)

    model = AutoModelForCausalLM.from_pretrained(args.model)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.1)
    steps = args.epochs * math.ceil(len(train_dl) / args.grad_accum)
    sched = get_cosine_schedule_with_warmup(opt, int(0.02 * steps), steps)
    model, opt, train_dl, valid_dl, sched = acc.prepare(model, opt, train_dl, valid_dl, sched)

    done = 0
    for epoch in range(args.epochs):
        model.train()
        for batch in train_dl:
            with acc.accumulate(model):
                loss = model(**batch).loss
                acc.backward(loss)
                if acc.sync_gradients:
                    acc.clip_grad_norm_(model.parameters(), 1.0)
                opt.step()
                sched.step()
                opt.zero_grad()
            if acc.sync_gradients:
                done += 1
                if done % args.eval_every == 0:
                    ppl = perplexity(model, valid_dl, acc)
                    acc.print(f"epoch {epoch} step {done} ppl {ppl:.2f}")
                    acc.log({"valid/ppl": ppl}, step=done)

    acc.wait_for_everyone()
    if acc.is_main_process:
        os.makedirs(args.out, exist_ok=True)
        acc.unwrap_model(model).save_pretrained(args.out, save_function=acc.save)
        tok.save_pretrained(args.out)


if __name__ == "__main__":
    main()
