"""Topic classification with the HF Trainer, early stopping on macro-F1,
and a final prediction dump for error analysis."""
import json
import sys
from dataclasses import dataclass, field

import numpy as np
import torch
from datasets import load_dataset
from sklearn.metrics import f1_score, accuracy_score
from transformers import (AutoModelForSequenceClassification, AutoTokenizer, EarlyStoppingCallback,
                          HfArgumentParser, Trainer, TrainingArguments)


@dataclass
class DataArgs:
    dataset: str = field(default="ag_news")
    model_name: str = field(default="microsoft/deberta-v3-base")
    max_len: int = field(default=256)
    n_examples_to_dump: int = field(default=200)


def compute_metrics(pred):
    logits, labels = pred
    y_hat = np.argmax(logits, axis=-1)
    return {"accuracy": accuracy_score(labels, y_hat), "macro_f1": f1_score(labels, y_hat, average="macro")}


def dump_predictions(classifier, tokenizer, texts, labels, path, device):
    classifier.eval()
    rows = []
    with torch.no_grad():
        for i in range(0, len(texts), 32):
            enc = tokenizer(texts[i:i + 32], truncation=True, padding=True, max_length=256,
                            return_tensors="pt").to(device)
            probs = classifier(**enc).logits.softmax(-1).cpu()
            for t, y, p in zip(texts[i:i + 32], labels[i:i + 32], probs):
                rows.append({"text": t, "gold": int(y), "pred": int(p.argmax()), "conf": float(p.max())})
    with open(path, "w") as fh:
        for r in rows:
            fh.write(json.dumps(r) + "\n")


def main():
    parser = HfArgumentParser((DataArgs, TrainingArguments))
    data_args, train_args = parser.parse_args_into_dataclasses(args=sys.argv[1:])
    train_args.load_best_model_at_end = True
    train_args.metric_for_best_model = "macro_f1"

    raw = load_dataset(data_args.dataset)
    split = raw["train"].train_test_split(test_size=0.05, seed=train_args.seed)
    tokenizer = AutoTokenizer.from_pretrained(data_args.model_name)

    def encode(batch):
        return tokenizer(batch["text"], truncation=True, max_length=data_args.max_len)

    train_ds = split["train"].map(encode, batched=True)
    dev_ds = split["test"].map(encode, batched=True)
    test_ds = raw["test"].map(encode, batched=True)
    n_labels = raw["train"].features["label"].num_classes

    model = AutoModelForSequenceClassification.from_pretrained(data_args.model_name, num_labels=n_labels)
    trainer = Trainer(
        model=model,
        args=train_args,
        train_dataset=train_ds,
        eval_dataset=dev_ds,
        tokenizer=tokenizer,
        compute_metrics=compute_metrics,
        callbacks=[EarlyStoppingCallback(early_stopping_patience=3)],
    )
    trainer.train()
    print(trainer.evaluate())
    test_out = trainer.predict(test_ds)
    print({k: v for k, v in test_out.metrics.items()})

    n = data_args.n_examples_to_dump
    dump_predictions(trainer.model, tokenizer, raw["test"]["text"][:n], raw["test"]["label"][:n],
                     f"{train_args.output_dir}/test_predictions.jsonl", trainer.args.device)


if __name__ == "__main__":
    main()
