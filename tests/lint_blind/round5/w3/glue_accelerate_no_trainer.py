# Fine-tune a BERT-style encoder on a GLUE task with Accelerate (no Trainer).
# Launch with:  accelerate launch glue_accelerate_no_trainer.py --task mrpc
import argparse
import math

import evaluate as hf_evaluate
import torch
from accelerate import Accelerator
from datasets import load_dataset
from torch.utils.data import DataLoader
from tqdm.auto import tqdm
from transformers import (AutoModelForSequenceClassification, AutoTokenizer,
                          DataCollatorWithPadding, get_linear_schedule_with_warmup, set_seed)

TASK_KEYS = {"mrpc": ("sentence1", "sentence2"), "sst2": ("sentence", None),
             "rte": ("sentence1", "sentence2"), "qnli": ("question", "sentence")}


def dev_metrics(model, loader, accelerator, metric):
    model.eval()
    for batch in loader:
        outputs = model(**batch)  # expect: MG401
        preds = outputs.logits.argmax(dim=-1)
        preds, refs = accelerator.gather_for_metrics((preds, batch["labels"]))
        metric.add_batch(predictions=preds, references=refs)
    return metric.compute()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--task", default="mrpc", choices=list(TASK_KEYS))
    ap.add_argument("--model", default="bert-base-cased")
    ap.add_argument("--lr", type=float, default=2e-5)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--bs", type=int, default=32)
    ap.add_argument("--grad-accum", type=int, default=1)
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()

    accelerator = Accelerator(gradient_accumulation_steps=args.grad_accum, mixed_precision="fp16")
    set_seed(args.seed)

    raw = load_dataset("glue", args.task)
    tok = AutoTokenizer.from_pretrained(args.model)
    k1, k2 = TASK_KEYS[args.task]

    def tokenize(ex):
        texts = (ex[k1],) if k2 is None else (ex[k1], ex[k2])
        return tok(*texts, truncation=True, max_length=128)

    with accelerator.main_process_first():
        enc = raw.map(tokenize, batched=True, remove_columns=[c for c in raw["train"].column_names if c != "label"])
    enc = enc.rename_column("label", "labels")
    collate = DataCollatorWithPadding(tok, pad_to_multiple_of=8)
    train_dl = DataLoader(enc["train"], shuffle=True, batch_size=args.bs, collate_fn=collate)
    eval_dl = DataLoader(enc["validation"], batch_size=2 * args.bs, collate_fn=collate)

    num_labels = raw["train"].features["label"].num_classes
    model = AutoModelForSequenceClassification.from_pretrained(args.model, num_labels=num_labels)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    steps = args.epochs * math.ceil(len(train_dl) / args.grad_accum)
    scheduler = get_linear_schedule_with_warmup(optimizer, int(0.06 * steps), steps)

    model, optimizer, train_dl, eval_dl, scheduler = accelerator.prepare(
        model, optimizer, train_dl, eval_dl, scheduler)
    metric = hf_evaluate.load("glue", args.task)

    bar = tqdm(range(steps), disable=not accelerator.is_local_main_process)
    for epoch in range(args.epochs):
        model.train()
        for batch in train_dl:
            with accelerator.accumulate(model):
                loss = model(**batch).loss
                accelerator.backward(loss)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad()
            if accelerator.sync_gradients:
                bar.update(1)
        scores = dev_metrics(model, eval_dl, accelerator, metric)
        accelerator.print(f"epoch {epoch}: {scores}")

    accelerator.wait_for_everyone()
    unwrapped = accelerator.unwrap_model(model)
    unwrapped.save_pretrained(f"out/{args.task}", is_main_process=accelerator.is_main_process,
                              save_function=accelerator.save)
    if accelerator.is_main_process:
        tok.save_pretrained(f"out/{args.task}")


if __name__ == "__main__":
    main()
