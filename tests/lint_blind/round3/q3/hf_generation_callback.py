"""Seq2seq summarisation fine-tuning with a callback that logs sample generations.

The HF Trainer calls `model.train()` at the start of every training_step, so the callback
can switch the model to eval for generation without bookkeeping.
"""
import argparse

import evaluate
import numpy as np
import torch
from datasets import load_dataset
from transformers import (AutoModelForSeq2SeqLM, AutoTokenizer, DataCollatorForSeq2Seq,
                          Seq2SeqTrainer, Seq2SeqTrainingArguments, TrainerCallback)


class SampleGenerations(TrainerCallback):
    def __init__(self, tokenizer, articles, every=1000, max_new_tokens=96):
        self.tok = tokenizer
        self.articles = articles
        self.every = every
        self.max_new_tokens = max_new_tokens

    def on_step_end(self, args, state, control, model=None, **kwargs):
        if state.global_step % self.every or not state.is_world_process_zero:
            return
        model.eval()
        enc = self.tok(self.articles, return_tensors="pt", padding=True, truncation=True,
                       max_length=512).to(model.device)
        with torch.no_grad():
            out = model.generate(**enc, num_beams=4, max_new_tokens=self.max_new_tokens)
        for i, text in enumerate(self.tok.batch_decode(out, skip_special_tokens=True)):
            print(f"[step {state.global_step}] sample {i}: {text}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="facebook/bart-base")
    ap.add_argument("--dataset", default="cnn_dailymail")
    ap.add_argument("--config", default="3.0.0")
    ap.add_argument("--out", default="out/bart-sum")
    args = ap.parse_args()

    tok = AutoTokenizer.from_pretrained(args.model)
    model = AutoModelForSeq2SeqLM.from_pretrained(args.model)
    raw = load_dataset(args.dataset, args.config)
    rouge = evaluate.load("rouge")

    def prep(batch):
        enc = tok(batch["article"], max_length=512, truncation=True)
        enc["labels"] = tok(text_target=batch["highlights"], max_length=128, truncation=True)["input_ids"]
        return enc

    data = raw.map(prep, batched=True, remove_columns=raw["train"].column_names)

    def metrics(pred):
        preds, labels = pred
        labels = np.where(labels != -100, labels, tok.pad_token_id)
        p = tok.batch_decode(preds, skip_special_tokens=True)
        r = tok.batch_decode(labels, skip_special_tokens=True)
        return {k: round(v * 100, 2) for k, v in rouge.compute(predictions=p, references=r).items()}

    targs = Seq2SeqTrainingArguments(
        output_dir=args.out, per_device_train_batch_size=16, gradient_accumulation_steps=2,
        learning_rate=5e-5, num_train_epochs=3, eval_strategy="steps", eval_steps=4000,
        predict_with_generate=True, generation_max_length=128, fp16=True, report_to="none")
    trainer = Seq2SeqTrainer(
        model=model, args=targs, train_dataset=data["train"],
        eval_dataset=data["validation"].select(range(2000)),
        data_collator=DataCollatorForSeq2Seq(tok, model=model), compute_metrics=metrics,
        callbacks=[SampleGenerations(tok, raw["validation"]["article"][:4])])
    trainer.train()
    print(trainer.evaluate(data["test"], metric_key_prefix="test"))


if __name__ == "__main__":
    main()
