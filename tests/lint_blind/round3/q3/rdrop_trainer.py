"""R-Drop fine-tuning for sentence-pair classification on top of the HF Trainer.

Two stochastic forward passes per batch (dropout on), symmetric KL between them.
"""
import argparse

import numpy as np
import torch
import torch.nn.functional as F
from datasets import load_dataset
from transformers import (AutoModelForSequenceClassification, AutoTokenizer,
                          DataCollatorWithPadding, Trainer, TrainingArguments)


def expected_calibration_error(probs, labels, bins=15):
    conf, pred = probs.max(-1)
    edges = torch.linspace(0, 1, bins + 1)
    ece = torch.zeros(())
    for lo, hi in zip(edges[:-1], edges[1:]):
        m = (conf > lo) & (conf <= hi)
        if m.any():
            ece += m.float().mean() * ((pred[m] == labels[m]).float().mean() - conf[m].mean()).abs()
    return ece.item()


class RDropTrainer(Trainer):
    def __init__(self, *args, rdrop_alpha=4.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.rdrop_alpha = rdrop_alpha

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        labels = inputs.pop("labels")
        out1 = model(**inputs)
        out2 = model(**inputs)
        ce = 0.5 * (F.cross_entropy(out1.logits, labels) + F.cross_entropy(out2.logits, labels))
        lp1, lp2 = F.log_softmax(out1.logits, -1), F.log_softmax(out2.logits, -1)
        kl = 0.5 * (F.kl_div(lp1, lp2, log_target=True, reduction="batchmean")
                    + F.kl_div(lp2, lp1, log_target=True, reduction="batchmean"))
        loss = ce + self.rdrop_alpha * kl
        return (loss, out1) if return_outputs else loss

    def prediction_step(self, model, inputs, prediction_loss_only, ignore_keys=None):
        inputs = self._prepare_inputs(inputs)
        labels = inputs.get("labels")
        with torch.no_grad():
            out = model(**inputs)
        loss = out.loss.detach() if out.loss is not None else None
        if prediction_loss_only:
            return loss, None, None
        return loss, out.logits.detach(), labels

    def evaluate(self, eval_dataset=None, ignore_keys=None, metric_key_prefix="eval"):
        metrics = super().evaluate(eval_dataset, ignore_keys, metric_key_prefix)
        # extra: calibration on the same split (the next training_step puts the model back in train)
        dl = self.get_eval_dataloader(eval_dataset)
        self.model.eval()
        probs, labels = [], []
        with torch.no_grad():
            for batch in dl:
                batch = self._prepare_inputs(batch)
                probs.append(self.model(**batch).logits.softmax(-1).float().cpu())
                labels.append(batch["labels"].cpu())
        ece = expected_calibration_error(torch.cat(probs), torch.cat(labels))
        metrics[f"{metric_key_prefix}_ece"] = ece
        self.log({f"{metric_key_prefix}_ece": ece})
        return metrics


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="microsoft/deberta-v3-base")
    ap.add_argument("--task", default="mrpc")
    ap.add_argument("--alpha", type=float, default=4.0)
    args = ap.parse_args()

    raw = load_dataset("glue", args.task)
    tok = AutoTokenizer.from_pretrained(args.model)
    enc = raw.map(lambda b: tok(b["sentence1"], b["sentence2"], truncation=True, max_length=256),
                  batched=True).rename_column("label", "labels")
    model = AutoModelForSequenceClassification.from_pretrained(args.model, num_labels=2)

    def metrics(p):
        return {"accuracy": float((np.argmax(p.predictions, -1) == p.label_ids).mean())}

    targs = TrainingArguments("out/rdrop", learning_rate=2e-5, num_train_epochs=5,
                              per_device_train_batch_size=16, eval_strategy="steps",
                              eval_steps=200, save_strategy="no", warmup_ratio=0.1,
                              report_to="none")
    trainer = RDropTrainer(model=model, args=targs, train_dataset=enc["train"],
                           eval_dataset=enc["validation"], data_collator=DataCollatorWithPadding(tok),
                           compute_metrics=metrics, rdrop_alpha=args.alpha)
    trainer.train()
    trainer.evaluate(enc["test"], metric_key_prefix="test")


if __name__ == "__main__":
    main()
