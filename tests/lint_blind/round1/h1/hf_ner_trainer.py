"""Token classification (NER) fine-tuning with the Hugging Face Trainer."""
import argparse

import evaluate
import numpy as np
import pandas as pd
from datasets import load_dataset
from transformers import (AutoModelForTokenClassification, AutoTokenizer, DataCollatorForTokenClassification,
                          EarlyStoppingCallback, Trainer, TrainingArguments)

seqeval = evaluate.load("seqeval")


def align_labels(examples, tokenizer, label_all_tokens=False):
    enc = tokenizer(examples["tokens"], truncation=True, is_split_into_words=True, max_length=256)
    all_labels = []
    for i, tags in enumerate(examples["ner_tags"]):
        word_ids = enc.word_ids(batch_index=i)
        prev, row = None, []
        for w in word_ids:
            if w is None:
                row.append(-100)
            elif w != prev:
                row.append(tags[w])
            else:
                row.append(tags[w] if label_all_tokens else -100)
            prev = w
        all_labels.append(row)
    enc["labels"] = all_labels
    return enc


def make_metrics(id2label):
    def compute(p):
        preds = np.argmax(p.predictions, axis=-1)
        true_preds = [[id2label[pp] for pp, ll in zip(pr, lr) if ll != -100] for pr, lr in zip(preds, p.label_ids)]
        true_labels = [[id2label[ll] for pp, ll in zip(pr, lr) if ll != -100] for pr, lr in zip(preds, p.label_ids)]
        r = seqeval.compute(predictions=true_preds, references=true_labels)
        return {"precision": r["overall_precision"], "recall": r["overall_recall"],
                "f1": r["overall_f1"], "accuracy": r["overall_accuracy"]}
    return compute


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="xlm-roberta-base")
    ap.add_argument("--dataset", default="conll2003")
    ap.add_argument("--out", default="out/ner")
    ap.add_argument("--epochs", type=float, default=5)
    args = ap.parse_args()

    raw = load_dataset(args.dataset)
    label_list = raw["train"].features["ner_tags"].feature.names
    id2label = dict(enumerate(label_list))
    label2id = {v: k for k, v in id2label.items()}

    tok = AutoTokenizer.from_pretrained(args.model)
    model = AutoModelForTokenClassification.from_pretrained(args.model, num_labels=len(label_list),
                                                            id2label=id2label, label2id=label2id)
    tokenized = raw.map(align_labels, batched=True, fn_kwargs={"tokenizer": tok},
                        remove_columns=raw["train"].column_names)

    targs = TrainingArguments(
        output_dir=args.out, learning_rate=3e-5, per_device_train_batch_size=16, per_device_eval_batch_size=64,
        num_train_epochs=args.epochs, weight_decay=0.01, warmup_ratio=0.1, eval_strategy="steps", eval_steps=500,
        save_strategy="steps", save_steps=500, load_best_model_at_end=True, metric_for_best_model="f1",
        fp16=True, report_to="none",
    )
    trainer = Trainer(model=model, args=targs, train_dataset=tokenized["train"],
                      eval_dataset=tokenized["validation"], tokenizer=tok,
                      data_collator=DataCollatorForTokenClassification(tok),
                      compute_metrics=make_metrics(id2label),
                      callbacks=[EarlyStoppingCallback(early_stopping_patience=4)])
    trainer.train()
    dev_metrics = trainer.evaluate()
    test_out = trainer.predict(tokenized["test"], metric_key_prefix="test")

    table = pd.DataFrame([{**{k.replace("eval_", ""): v for k, v in dev_metrics.items()}, "split": "dev"},
                          {**{k.replace("test_", ""): v for k, v in test_out.metrics.items()}, "split": "test"}])
    table = table.eval("f1_gap = f1 - accuracy")
    print(table[["split", "precision", "recall", "f1", "f1_gap"]].to_string(index=False))
    trainer.save_model(f"{args.out}/best")


if __name__ == "__main__":
    main()
