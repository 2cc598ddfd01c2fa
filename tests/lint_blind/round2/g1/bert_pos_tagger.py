"""Token classification (UPOS) with a hand-written loop over a from_pretrained encoder.

Dev accuracy is computed several times per epoch; the evaluation helper restores
whatever mode the model was in when it was called.
"""
import argparse
import math

import torch
import torch.nn as nn
from torch.utils.data import DataLoader
from tqdm import tqdm
from transformers import AutoModel, AutoTokenizer, get_cosine_schedule_with_warmup

from ud_reader import UDTokenDataset, make_collate


class Tagger(nn.Module):
    def __init__(self, encoder_name, n_tags, p=0.2):
        super().__init__()
        self.encoder = AutoModel.from_pretrained(encoder_name)
        self.dropout = nn.Dropout(p)
        self.classifier = nn.Linear(self.encoder.config.hidden_size, n_tags)

    def forward(self, input_ids, attention_mask):
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return self.classifier(self.dropout(hidden))


def dev_accuracy(net, loader, device):
    was_training = net.training
    net.eval()
    correct = total = 0
    try:
        with torch.no_grad():
            for b in loader:
                logits = net(b["input_ids"].to(device), b["attention_mask"].to(device))
                gold = b["labels"].to(device)
                keep = gold.ne(-100)
                correct += (logits.argmax(-1).eq(gold) & keep).sum().item()
                total += keep.sum().item()
    finally:
        net.train(was_training)
    return correct / total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--encoder", default="bert-base-multilingual-cased")
    ap.add_argument("--treebank", default="data/UD_English-EWT")
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--lr", type=float, default=3e-5)
    ap.add_argument("--evals_per_epoch", type=int, default=4)
    args = ap.parse_args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

    tok = AutoTokenizer.from_pretrained(args.encoder)
    train_ds = UDTokenDataset(f"{args.treebank}/train.conllu", tok)
    dev_ds = UDTokenDataset(f"{args.treebank}/dev.conllu", tok, tagset=train_ds.tagset)
    collate = make_collate(tok.pad_token_id)
    train_dl = DataLoader(train_ds, batch_size=32, shuffle=True, collate_fn=collate)
    dev_dl = DataLoader(dev_ds, batch_size=64, collate_fn=collate)

    net = Tagger(args.encoder, len(train_ds.tagset)).to(device)
    optim = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=0.01)
    total = args.epochs * len(train_dl)
    sched = get_cosine_schedule_with_warmup(optim, int(0.1 * total), total)
    loss_fn = nn.CrossEntropyLoss(ignore_index=-100)
    eval_points = {math.ceil(len(train_dl) * k / args.evals_per_epoch) for k in range(1, args.evals_per_epoch + 1)}

    net.train()
    for epoch in range(args.epochs):
        bar = tqdm(train_dl, desc=f"epoch {epoch}")
        for i, b in enumerate(bar, 1):
            logits = net(b["input_ids"].to(device), b["attention_mask"].to(device))
            loss = loss_fn(logits.flatten(0, 1), b["labels"].to(device).flatten())
            loss.backward()
            nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            optim.step()
            sched.step()
            optim.zero_grad()
            bar.set_postfix(loss=f"{loss.item():.3f}")
            if i in eval_points:
                bar.write(f"  dev acc @ {epoch}.{i}: {dev_accuracy(net, dev_dl, device):.4f}")
    torch.save(net.state_dict(), "upos_tagger.pt")


if __name__ == "__main__":
    main()
