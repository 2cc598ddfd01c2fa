"""Distil a fine-tuned BERT-large sentiment teacher into a 4-layer student.

The teacher is frozen and kept in inference mode. An exponential moving average of the
student is what we select checkpoints on.
"""
import argparse
import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import AutoModelForSequenceClassification, AutoConfig

from kdutils.data import build_loaders


class ModelEMA:
    def __init__(self, model: nn.Module, decay: float = 0.999):
        self.shadow = copy.deepcopy(model).eval()
        for p in self.shadow.parameters():
            p.requires_grad_(False)
        self.decay = decay

    @torch.no_grad()
    def update(self, model: nn.Module):
        msd = model.state_dict()
        for name, v in self.shadow.state_dict().items():
            if v.dtype.is_floating_point:
                v.mul_(self.decay).add_(msd[name].detach(), alpha=1.0 - self.decay)
            else:
                v.copy_(msd[name])


def kd_objective(student_logits, teacher_logits, labels, temperature, alpha):
    soft = F.kl_div(F.log_softmax(student_logits / temperature, dim=-1),
                    F.softmax(teacher_logits / temperature, dim=-1),
                    reduction="batchmean") * temperature ** 2
    hard = F.cross_entropy(student_logits, labels)
    return alpha * soft + (1.0 - alpha) * hard


@torch.no_grad()
def accuracy(net, loader, device):
    hits = total = 0
    for batch in loader:
        batch = {k: v.to(device) for k, v in batch.items()}
        labels = batch.pop("labels")
        hits += (net(**batch).logits.argmax(-1) == labels).sum().item()
        total += labels.numel()
    return hits / total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--teacher", default="ckpt/bert-large-sst2")
    ap.add_argument("--student-init", default="bert-base-uncased")
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--T", type=float, default=4.0)
    ap.add_argument("--alpha", type=float, default=0.9)
    args = ap.parse_args()
    dev = torch.device("cuda")

    teacher = AutoModelForSequenceClassification.from_pretrained(args.teacher).to(dev)
    teacher.eval()
    teacher.requires_grad_(False)

    cfg = AutoConfig.from_pretrained(args.student_init, num_hidden_layers=args.layers, num_labels=2)
    student = AutoModelForSequenceClassification.from_pretrained(args.student_init, config=cfg).to(dev)
    ema = ModelEMA(student)

    train_dl, dev_dl, test_dl = build_loaders(args.teacher, batch_size=32)
    opt = torch.optim.AdamW(student.parameters(), lr=5e-5, weight_decay=0.01)

    best, best_state = 0.0, None
    for epoch in range(args.epochs):
        student.train()
        for batch in train_dl:
            batch = {k: v.to(dev) for k, v in batch.items()}
            labels = batch.pop("labels")
            with torch.no_grad():
                t_logits = teacher(**batch).logits
            s_logits = student(**batch).logits
            loss = kd_objective(s_logits, t_logits, labels, args.T, args.alpha)
            opt.zero_grad()
            loss.backward()
            opt.step()
            ema.update(student)

        acc = accuracy(ema.shadow, dev_dl, dev)
        print(f"epoch {epoch}: kd loss {loss.item():.4f} ema dev acc {acc:.4f}")
        if acc > best:
            best, best_state = acc, copy.deepcopy(ema.shadow.state_dict())

    ema.shadow.load_state_dict(best_state)
    student.eval()
    print("raw student test acc", accuracy(student, test_dl, dev))
    print("ema student test acc", accuracy(ema.shadow, test_dl, dev))


if __name__ == "__main__":
    main()
