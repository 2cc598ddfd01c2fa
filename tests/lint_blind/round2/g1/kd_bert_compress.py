"""Task-specific knowledge distillation: BERT-large (fine-tuned on MNLI) -> 6-layer student.

Loss = alpha * KL(student || teacher, T) + (1 - alpha) * CE(student, gold).
"""
import argparse
import os

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader
from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer, get_scheduler

from glue_utils import load_mnli_features


class DistillationPair(nn.Module):
    """Bundles teacher and student so both move with .to() / DDP together."""

    def __init__(self, teacher, student, temperature=2.0, alpha=0.9):
        super().__init__()
        self.teacher = teacher
        self.student = student
        self.teacher.eval()
        for p in self.teacher.parameters():
            p.requires_grad_(False)
        self.T = temperature
        self.alpha = alpha

    def soft_targets(self, batch):
        with torch.no_grad():
            t_out = self.teacher(input_ids=batch["input_ids"],  # expect: MG102
                                 attention_mask=batch["attention_mask"],
                                 token_type_ids=batch.get("token_type_ids"))
        return F.softmax(t_out.logits / self.T, dim=-1)

    def forward(self, batch):
        s_logits = self.student(input_ids=batch["input_ids"],
                                attention_mask=batch["attention_mask"],
                                token_type_ids=batch.get("token_type_ids")).logits
        p_t = self.soft_targets(batch)
        kd = F.kl_div(F.log_softmax(s_logits / self.T, -1), p_t, reduction="batchmean") * self.T ** 2
        ce = F.cross_entropy(s_logits, batch["labels"])
        return self.alpha * kd + (1 - self.alpha) * ce, s_logits


@torch.no_grad()
def matched_accuracy(student, loader, device):
    student.eval()
    right = n = 0
    for batch in loader:
        batch = {k: v.to(device) for k, v in batch.items()}
        logits = student(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                         token_type_ids=batch.get("token_type_ids")).logits
        right += (logits.argmax(-1) == batch["labels"]).sum().item()
        n += batch["labels"].numel()
    return right / n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--teacher", default="ckpt/bert-large-mnli")
    ap.add_argument("--student_init", default="bert-base-uncased")
    ap.add_argument("--layers", type=int, default=6)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--output_dir", default="ckpt/student6")
    args = ap.parse_args()
    device = torch.device("cuda")

    tok = AutoTokenizer.from_pretrained(args.teacher)
    teacher = AutoModelForSequenceClassification.from_pretrained(args.teacher)
    s_cfg = AutoConfig.from_pretrained(args.student_init, num_hidden_layers=args.layers, num_labels=3)
    student = AutoModelForSequenceClassification.from_pretrained(args.student_init, config=s_cfg)
    pair = DistillationPair(teacher, student).to(device)

    train_dl = DataLoader(load_mnli_features(tok, "train"), batch_size=32, shuffle=True)
    dev_dl = DataLoader(load_mnli_features(tok, "validation_matched"), batch_size=128)
    optim = torch.optim.AdamW(student.parameters(), lr=args.lr, weight_decay=0.01)
    sched = get_scheduler("linear", optim, num_warmup_steps=1000,
                          num_training_steps=args.epochs * len(train_dl))

    for epoch in range(args.epochs):
        pair.train()
        for it, batch in enumerate(train_dl):
            batch = {k: v.to(device) for k, v in batch.items()}
            loss, _ = pair(batch)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(student.parameters(), 1.0)
            optim.step()
            sched.step()
            optim.zero_grad()
            if it % 500 == 0:
                print(f"epoch {epoch} it {it} loss {loss.item():.4f}")
        print(f"epoch {epoch} dev-m acc {matched_accuracy(student, dev_dl, device):.4f}")
        os.makedirs(args.output_dir, exist_ok=True)
        student.save_pretrained(args.output_dir)


if __name__ == "__main__":
    main()
