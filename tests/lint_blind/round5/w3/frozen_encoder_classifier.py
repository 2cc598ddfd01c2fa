"""Linear-ish probing of a frozen transformer encoder with a small trainable head.

    python frozen_encoder_classifier.py --model roberta-base --train train.jsonl --dev dev.jsonl
"""
import argparse
import json

import torch
import torch.nn as nn
from torch.utils.data import DataLoader
from transformers import AutoModel, AutoTokenizer, get_cosine_schedule_with_warmup


class EncoderWithHead(nn.Module):
    def __init__(self, name, num_labels, head_dropout=0.1, freeze_encoder=True):
        super().__init__()
        self.encoder = AutoModel.from_pretrained(name)
        hidden = self.encoder.config.hidden_size
        self.pre = nn.Sequential(nn.Linear(hidden, hidden), nn.Tanh())
        self.head_dropout = nn.Dropout(head_dropout)
        self.classifier = nn.Linear(hidden, num_labels)
        self.freeze_encoder = freeze_encoder
        if freeze_encoder:
            for p in self.encoder.parameters():
                p.requires_grad = False

    def train(self, mode: bool = True):  # expect: MG104
        super().train(mode)
        if self.freeze_encoder:
            self.encoder.eval()

    def forward(self, input_ids, attention_mask):
        h = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        mask = attention_mask.unsqueeze(-1).type_as(h)
        pooled = (h * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        if not self.training:
            # make sure nothing random happens at inference / export time
            self.head_dropout.p = 0.0  # expect: MG203
        return self.classifier(self.head_dropout(self.pre(pooled)))


def read_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


def make_collate(tok, max_len):
    def collate(rows):
        enc = tok([r["text"] for r in rows], padding=True, truncation=True,
                  max_length=max_len, return_tensors="pt")
        enc["labels"] = torch.tensor([r["label"] for r in rows])
        return enc
    return collate


def dev_accuracy(model, loader, device):
    model.eval()
    correct = total = 0
    with torch.inference_mode():
        for b in loader:
            logits = model(b["input_ids"].to(device), b["attention_mask"].to(device))
            correct += (logits.argmax(-1).cpu() == b["labels"]).sum().item()
            total += b["labels"].numel()
    return correct / total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="roberta-base")
    ap.add_argument("--train", required=True)
    ap.add_argument("--dev", required=True)
    ap.add_argument("--num-labels", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--max-len", type=int, default=256)
    args = ap.parse_args()

    device = "cuda" if torch.cuda.is_available() else "cpu"
    tok = AutoTokenizer.from_pretrained(args.model)
    collate = make_collate(tok, args.max_len)
    train_dl = DataLoader(read_jsonl(args.train), batch_size=32, shuffle=True, collate_fn=collate)
    dev_dl = DataLoader(read_jsonl(args.dev), batch_size=64, collate_fn=collate)

    model = EncoderWithHead(args.model, args.num_labels).to(device)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
    total = args.epochs * len(train_dl)
    sched = get_cosine_schedule_with_warmup(opt, int(0.1 * total), total)
    loss_fn = nn.CrossEntropyLoss()

    for epoch in range(args.epochs):
        model.train()
        for b in train_dl:
            logits = model(b["input_ids"].to(device), b["attention_mask"].to(device))
            loss = loss_fn(logits, b["labels"].to(device))
            loss.backward()
            opt.step()
            sched.step()
            opt.zero_grad()
        print(f"epoch {epoch}: dev acc {dev_accuracy(model, dev_dl, device):.4f}")

    torch.save({k: v for k, v in model.state_dict().items() if not k.startswith("encoder.")},
               "head.pt")


if __name__ == "__main__":
    main()
