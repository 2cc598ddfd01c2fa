"""Distil a timm CNN teacher into a HF ViT student with the HF Trainer.

python vit_kd_trainer.py --teacher_arch resnet152d --teacher_ckpt teacher.pth \
    --student google/vit-base-patch16-224-in21k --data_dir /data/food101
"""
import argparse

import timm
import torch
import torch.nn.functional as F
from datasets import load_dataset
from transformers import (AutoImageProcessor, Trainer, TrainingArguments,
                          ViTForImageClassification)


class KDTrainer(Trainer):
    def __init__(self, *args, teacher=None, T=4.0, alpha=0.7, **kwargs):
        super().__init__(*args, **kwargs)
        self.teacher = teacher.to(self.args.device)
        for p in self.teacher.parameters():
            p.requires_grad_(False)
        self.T = T
        self.alpha = alpha

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        labels = inputs.pop("labels")
        student_out = model(**inputs)
        with torch.no_grad():
            t_logits = self.teacher(inputs["pixel_values"])  # expect: MG102
        s_logits = student_out.logits
        hard = F.cross_entropy(s_logits, labels)
        soft = F.kl_div(
            F.log_softmax(s_logits / self.T, dim=-1),
            F.softmax(t_logits / self.T, dim=-1),
            reduction="batchmean",
        ) * (self.T ** 2)
        loss = self.alpha * soft + (1.0 - self.alpha) * hard
        return (loss, student_out) if return_outputs else loss


def accuracy(eval_pred):
    logits, labels = eval_pred
    return {"accuracy": float((logits.argmax(-1) == labels).mean())}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--teacher_arch", default="resnet152d")
    ap.add_argument("--teacher_ckpt", required=True)
    ap.add_argument("--student", default="google/vit-base-patch16-224-in21k")
    ap.add_argument("--data_dir", required=True)
    ap.add_argument("--out", default="runs/kd")
    ap.add_argument("--epochs", type=float, default=10)
    args = ap.parse_args()

    ds = load_dataset("imagefolder", data_dir=args.data_dir)
    labels = ds["train"].features["label"].names
    proc = AutoImageProcessor.from_pretrained(args.student)

    def transform(batch):
        enc = proc([im.convert("RGB") for im in batch["image"]], return_tensors="pt")
        enc["labels"] = batch["label"]
        return enc

    ds = ds.with_transform(transform)

    teacher = timm.create_model(args.teacher_arch, pretrained=False, num_classes=len(labels))
    teacher.load_state_dict(torch.load(args.teacher_ckpt, map_location="cpu"))

    student = ViTForImageClassification.from_pretrained(
        args.student, num_labels=len(labels),
        id2label=dict(enumerate(labels)), label2id={l: i for i, l in enumerate(labels)},
    )

    targs = TrainingArguments(
        output_dir=args.out,
        per_device_train_batch_size=64,
        per_device_eval_batch_size=128,
        learning_rate=5e-5,
        num_train_epochs=args.epochs,
        eval_strategy="epoch",
        save_strategy="epoch",
        load_best_model_at_end=True,
        metric_for_best_model="accuracy",
        remove_unused_columns=False,
        bf16=True,
        report_to="none",
    )
    trainer = KDTrainer(
        model=student,
        args=targs,
        train_dataset=ds["train"],
        eval_dataset=ds["validation"],
        compute_metrics=accuracy,
        teacher=teacher,
    )
    trainer.train()
    print(trainer.evaluate())


if __name__ == "__main__":
    main()
