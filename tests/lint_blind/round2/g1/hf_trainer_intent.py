"""Intent classification + slot-free baseline on MASSIVE (en-US) using the HF Trainer."""
import ast
import os
import sys
from dataclasses import dataclass, field

import evaluate
import numpy as np
from datasets import load_dataset
from transformers import (AutoModelForSequenceClassification, AutoTokenizer, DataCollatorWithPadding,
                          EarlyStoppingCallback, HfArgumentParser, Trainer, TrainingArguments, set_seed)


@dataclass
class ExtraArgs:
    model_name_or_path: str = "xlm-roberta-base"
    locale: str = "en-US"
    max_len: int = 64
    label_smoothing: float = 0.0
    class_weights: str = field(default="None", metadata={"help": "python literal list or None"})


def main():
    parser = HfArgumentParser((ExtraArgs, TrainingArguments))
    extra, targs = parser.parse_args_into_dataclasses()
    set_seed(targs.seed)

    raw = load_dataset("AmazonScience/massive", extra.locale)
    labels = raw["train"].features["intent"].names
    tok = AutoTokenizer.from_pretrained(extra.model_name_or_path)

    def prep(batch):
        enc = tok(batch["utt"], truncation=True, max_length=extra.max_len)
        enc["labels"] = batch["intent"]
        return enc

    cols = raw["train"].column_names
    ds = raw.map(prep, batched=True, remove_columns=cols)

    model = AutoModelForSequenceClassification.from_pretrained(
        extra.model_name_or_path, num_labels=len(labels),
        id2label=dict(enumerate(labels)), label2id={l: i for i, l in enumerate(labels)})

    weights = ast.literal_eval(extra.class_weights)
    if weights is not None:
        print("class weights are ignored by the default loss; use a custom Trainer", file=sys.stderr)

    acc = evaluate.load("accuracy")
    f1 = evaluate.load("f1")

    def compute_metrics(pred):
        logits, gold = pred
        hyp = np.argmax(logits, axis=-1)
        out = acc.compute(predictions=hyp, references=gold)
        out.update(f1.compute(predictions=hyp, references=gold, average="macro"))
        return out

    trainer = Trainer(
        model=model,
        args=targs,
        train_dataset=ds["train"],
        eval_dataset=ds["validation"],
        tokenizer=tok,
        data_collator=DataCollatorWithPadding(tok),
        compute_metrics=compute_metrics,
        callbacks=[EarlyStoppingCallback(early_stopping_patience=3)],
    )
    if targs.do_train:
        result = trainer.train(resume_from_checkpoint=targs.resume_from_checkpoint)
        trainer.save_model()
        trainer.log_metrics("train", result.metrics)
        trainer.save_state()
    if targs.do_eval:
        metrics = trainer.evaluate()
        trainer.log_metrics("eval", metrics)
        trainer.save_metrics("eval", metrics)
    if targs.do_predict:
        preds = trainer.predict(ds["test"])
        trainer.log_metrics("test", preds.metrics)
        with open(os.path.join(targs.output_dir, "test_predictions.tsv"), "w") as fh:
            for i, p in enumerate(np.argmax(preds.predictions, -1)):
                fh.write(f"{i}\t{labels[p]}\n")


if __name__ == "__main__":
    main()
