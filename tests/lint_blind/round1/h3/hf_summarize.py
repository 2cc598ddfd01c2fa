"""Fine-tune a T5 checkpoint for news summarisation with the HF Seq2SeqTrainer."""
import argparse

import evaluate
import nltk
import numpy as np
import torch
from datasets import load_dataset
from transformers import (AutoModelForSeq2SeqLM, AutoTokenizer, DataCollatorForSeq2Seq,
                          Seq2SeqTrainer, Seq2SeqTrainingArguments)


def parse_args():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="t5-small")
    ap.add_argument("--dataset", default="cnn_dailymail")
    ap.add_argument("--config", default="3.0.0")
    ap.add_argument("--max-src", type=int, default=512)
    ap.add_argument("--max-tgt", type=int, default=128)
    ap.add_argument("--epochs", type=float, default=3)
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--out", default="out/t5-cnndm")
    return ap.parse_args()


def main():
    args = parse_args()
    tok = AutoTokenizer.from_pretrained(args.model)
    model = AutoModelForSeq2SeqLM.from_pretrained(args.model)
    raw = load_dataset(args.dataset, args.config)
    rouge = evaluate.load("rouge")

    def preprocess(batch):
        inputs = tok(["summarize: " + a for a in batch["article"]],
                     max_length=args.max_src, truncation=True)
        labels = tok(text_target=batch["highlights"], max_length=args.max_tgt, truncation=True)
        inputs["labels"] = labels["input_ids"]
        return inputs

    tokenized = raw.map(preprocess, batched=True, remove_columns=raw["train"].column_names)

    def compute_metrics(eval_pred):
        preds, labels = eval_pred
        preds = np.where(preds != -100, preds, tok.pad_token_id)
        labels = np.where(labels != -100, labels, tok.pad_token_id)
        dec_p = tok.batch_decode(preds, skip_special_tokens=True)
        dec_l = tok.batch_decode(labels, skip_special_tokens=True)
        dec_p = ["\n".join(nltk.sent_tokenize(p.strip())) for p in dec_p]
        dec_l = ["\n".join(nltk.sent_tokenize(l.strip())) for l in dec_l]
        scores = rouge.compute(predictions=dec_p, references=dec_l, use_stemmer=True)
        scores["gen_len"] = float(np.mean([np.count_nonzero(p != tok.pad_token_id) for p in preds]))
        return {k: round(v, 4) for k, v in scores.items()}

    training_args = Seq2SeqTrainingArguments(
        output_dir=args.out,
        per_device_train_batch_size=16,
        per_device_eval_batch_size=32,
        learning_rate=args.lr,
        num_train_epochs=args.epochs,
        eval_strategy="steps",
        eval_steps=2000,
        save_steps=2000,
        predict_with_generate=True,
        generation_max_length=args.max_tgt,
        bf16=torch.cuda.is_available(),
        load_best_model_at_end=True,
        metric_for_best_model="rougeL",
        report_to="none",
    )
    trainer = Seq2SeqTrainer(
        model=model,
        args=training_args,
        train_dataset=tokenized["train"],
        eval_dataset=tokenized["validation"].select(range(2000)),
        data_collator=DataCollatorForSeq2Seq(tok, model=model),
        tokenizer=tok,
        compute_metrics=compute_metrics,
    )
    trainer.train()
    print(trainer.evaluate(num_beams=4))
    test_out = trainer.predict(tokenized["test"], num_beams=4)
    print(test_out.metrics)
    trainer.save_model(args.out)

    # a few qualitative examples for the README
    best = trainer.model
    best.eval()
    samples = raw["test"].select(range(3))
    enc = tok(["summarize: " + a for a in samples["article"]], max_length=args.max_src,
              truncation=True, padding=True, return_tensors="pt").to(best.device)
    with torch.no_grad():
        gen = best.generate(**enc, num_beams=4, max_new_tokens=args.max_tgt)
    for article, summary in zip(samples["article"], tok.batch_decode(gen, skip_special_tokens=True)):
        print(article[:300].replace("\n", " "), "...\n  ->", summary, "\n")


if __name__ == "__main__":
    main()
