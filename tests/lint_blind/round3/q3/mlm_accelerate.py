"""Domain-adaptive MLM pretraining (RoBERTa) on clinical notes, launched with accelerate."""
import argparse
import math

import torch
from accelerate import Accelerator
from accelerate.logging import get_logger
from datasets import load_from_disk
from torch.utils.data import DataLoader
from tqdm.auto import tqdm
from transformers import (AutoModelForMaskedLM, AutoTokenizer,
                          DataCollatorForLanguageModeling, get_linear_schedule_with_warmup)

logger = get_logger(__name__)


def held_out_loss(mlm, dl, accelerator):
    mlm.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for batch in dl:
            loss = mlm(**batch).loss
            n = batch["input_ids"].size(0)
            gathered = accelerator.gather_for_metrics(loss.detach().repeat(n))
            total += gathered.sum().item()
            count += gathered.numel()
    return total / max(count, 1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="roberta-base")
    ap.add_argument("--dataset", required=True, help="tokenised dataset saved with save_to_disk")
    ap.add_argument("--bs", type=int, default=32)
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--max_steps", type=int, default=100_000)
    ap.add_argument("--eval_steps", type=int, default=2_500)
    ap.add_argument("--output_dir", default="out/mlm")
    args = ap.parse_args()

    accelerator = Accelerator(log_with="tensorboard", project_dir=args.output_dir)
    accelerator.init_trackers("mlm")
    tok = AutoTokenizer.from_pretrained(args.model)
    ds = load_from_disk(args.dataset)
    collator = DataCollatorForLanguageModeling(tok, mlm_probability=0.15)
    train_dl = DataLoader(ds["train"], batch_size=args.bs, shuffle=True, collate_fn=collator)
    eval_dl = DataLoader(ds["validation"], batch_size=args.bs, collate_fn=collator)

    model = AutoModelForMaskedLM.from_pretrained(args.model)
    no_decay = ("bias", "LayerNorm.weight")
    groups = [
        {"params": [p for n, p in model.named_parameters() if not n.endswith(no_decay)],
         "weight_decay": 0.01},
        {"params": [p for n, p in model.named_parameters() if n.endswith(no_decay)],
         "weight_decay": 0.0},
    ]
    optimizer = torch.optim.AdamW(groups, lr=args.lr)
    scheduler = get_linear_schedule_with_warmup(optimizer, 6_000, args.max_steps)
    model, optimizer, train_dl, eval_dl, scheduler = accelerator.prepare(
        model, optimizer, train_dl, eval_dl, scheduler)

    best = math.inf
    step = 0
    bar = tqdm(total=args.max_steps, disable=not accelerator.is_local_main_process)
    while step < args.max_steps:
        for batch in train_dl:
            model.train()
            out = model(**batch)
            accelerator.backward(out.loss)
            accelerator.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            step += 1
            bar.update(1)

            if step % args.eval_steps == 0:
                val = held_out_loss(model, eval_dl, accelerator)
                accelerator.log({"eval_loss": val, "ppl": math.exp(min(val, 20))}, step=step)
                if val < best:
                    best = val
                    accelerator.wait_for_everyone()
                    unwrapped = accelerator.unwrap_model(model)
                    unwrapped.save_pretrained(args.output_dir, is_main_process=accelerator.is_main_process,
                                              save_function=accelerator.save)
            if step >= args.max_steps:
                break
    accelerator.end_training()


if __name__ == "__main__":
    main()
