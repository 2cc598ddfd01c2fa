#!/usr/bin/env python
"""Token-classification fine-tuning with the HF Trainer; writes a per-entity report."""
import argparse
import json

import evaluate
import numpy as np
import pandas as pd
from datasets import load_dataset
from transformers import (AutoModelForTokenClassification, AutoTokenizer,
                          DataCollatorForTokenClassification, Trainer, TrainingArguments)

seqeval = evaluate.load("seqeval")


def align_labels(batch, tokenizer, label_all_tokens):
    enc = tokenizer(batch["tokens"], truncation=True, is_split_into_words=True)
    all_labels = []
    for i, tags in enumerate(batch["ner_tags"]):
        prev, ids = None, []
        for wid in enc.word_ids(batch_index=i):
            if wid is None:
                ids.append(-100)
            elif wid != prev:
                ids.append(tags[wid])
            else:
                ids.append(tags[wid] if label_all_tokens else -100)
            prev = wid
        all_labels.append(ids)
    enc["labels"] = all_labels
    return enc


def make_metrics(label_names):
    def compute(pred):
        logits, labels = pred
        preds = np.argmax(logits, axis=-1)
        true_p = [[label_names[p] for p, l in zip(ps, ls) if l != -100] for ps, ls in zip(preds, labels)]
        true_l = [[label_names[l] for p, l in zip(ps, ls) if l != -100] for ps, ls in zip(preds, labels)]
        res = seqeval.compute(predictions=true_p, references=true_l)
        return {"precision": res["overall_precision"], "recall": res["overall_recall"],
                "f1": res["overall_f1"], "accuracy": res["overall_accuracy"]}
    return compute


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="bert-base-cased")
    ap.add_argument("--dataset", default="conll2003")
    ap.add_argument("--lr-grid", default="[2e-5, 3e-5, 5e-5]",
                    help="python literal, e.g. '[1e-5 * k for k in (2, 3, 5)]'")
    ap.add_argument("--epochs", type=float, default=3)
    ap.add_argument("--label-all-tokens", action="store_true")
    args = ap.parse_args()

    lr_grid = eval(args.lr_grid)  # trusted, comes from our own sweep files
    raw = load_dataset(args.dataset)
    label_names = raw["train"].features["ner_tags"].feature.names
    tok = AutoTokenizer.from_pretrained(args.model)
    ds = raw.map(lambda b: align_labels(b, tok, args.label_all_tokens), batched=True,
                 remove_columns=raw["train"].column_names)

    rows = []
    for lr in lr_grid:
        model = AutoModelForTokenClassification.from_pretrained(
            args.model, num_labels=len(label_names),
            id2label=dict(enumerate(label_names)),
            label2id={n: i for i, n in enumerate(label_names)})
        targs = TrainingArguments(output_dir=f"runs/ner_lr{lr:g}", learning_rate=lr,
                                  per_device_train_batch_size=32, per_device_eval_batch_size=64,
                                  num_train_epochs=args.epochs, weight_decay=0.01,
                                  eval_strategy="steps", eval_steps=500, save_strategy="no",
                                  warmup_ratio=0.1, report_to=[])
        trainer = Trainer(model=model, args=targs, train_dataset=ds["train"],
                          eval_dataset=ds["validation"], tokenizer=tok,
                          data_collator=DataCollatorForTokenClassification(tok),
                          compute_metrics=make_metrics(label_names))
        trainer.train()
        dev = trainer.evaluate()
        test = trainer.predict(ds["test"]).metrics
        rows.append({"lr": lr, "dev_f1": dev["eval_f1"], "test_f1": test["test_f1"],
                     "dev_acc": dev["eval_accuracy"]})

    report = pd.DataFrame(rows).eval("gap = dev_f1 - test_f1")
    print(report.to_string(index=False))
    with open("ner_sweep.json", "w") as fh:
        json.dump(report.to_dict(orient="records"), fh, indent=2)


if __name__ == "__main__":
    main()
