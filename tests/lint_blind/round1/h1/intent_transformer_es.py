"""Small Transformer intent classifier with step-level early stopping."""
import argparse
import copy
import math

import torch
import torch.nn as nn
from torch.utils.data import DataLoader

from intents.data import IntentDataset, pad_collate
from intents.vocab import Vocab


class PositionalEncoding(nn.Module):
    def __init__(self, d_model, max_len=256, dropout=0.1):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        pe = torch.zeros(max_len, d_model)
        pos = torch.arange(max_len).unsqueeze(1)
        div = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
        pe[:, 0::2] = torch.sin(pos * div)
        pe[:, 1::2] = torch.cos(pos * div)
        self.register_buffer("pe", pe.unsqueeze(0))

    def forward(self, x):
        return self.dropout(x + self.pe[:, : x.size(1)])


class IntentEncoder(nn.Module):
    def __init__(self, vocab_size, n_intents, d_model=256, heads=4, layers=3, dropout=0.1):
        super().__init__()
        self.emb = nn.Embedding(vocab_size, d_model, padding_idx=0)
        self.pos = PositionalEncoding(d_model, dropout=dropout)
        layer = nn.TransformerEncoderLayer(d_model, heads, 4 * d_model, dropout, batch_first=True)
        self.enc = nn.TransformerEncoder(layer, layers)
        self.cls = nn.Linear(d_model, n_intents)

    def forward(self, tokens):
        pad = tokens.eq(0)
        h = self.enc(self.pos(self.emb(tokens)), src_key_padding_mask=pad)
        h = h.masked_fill(pad.unsqueeze(-1), 0.0).sum(1) / (~pad).sum(1, keepdim=True).clamp(min=1)
        return self.cls(h)


@torch.no_grad()
def dev_accuracy(encoder, loader, device):
    prev_mode = encoder.training
    encoder.eval()
    try:
        hit = tot = 0
        for tokens, labels in loader:
            pred = encoder(tokens.to(device)).argmax(-1)
            hit += (pred.cpu() == labels).sum().item()
            tot += labels.numel()
        return hit / max(tot, 1)
    finally:
        encoder.train(prev_mode)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", default="data/intents/train.jsonl")
    ap.add_argument("--dev", default="data/intents/dev.jsonl")
    ap.add_argument("--eval_every", type=int, default=200)
    ap.add_argument("--patience", type=int, default=10, help="evaluations without improvement")
    ap.add_argument("--max_steps", type=int, default=30000)
    args = ap.parse_args()

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    vocab = Vocab.build_from_jsonl(args.train, min_freq=2)
    tr = IntentDataset(args.train, vocab)
    dv = IntentDataset(args.dev, vocab)
    tr_dl = DataLoader(tr, batch_size=64, shuffle=True, collate_fn=pad_collate)
    dv_dl = DataLoader(dv, batch_size=256, collate_fn=pad_collate)

    encoder = IntentEncoder(len(vocab), tr.num_intents).to(device)
    opt = torch.optim.AdamW(encoder.parameters(), lr=5e-4, weight_decay=0.01)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.05)

    best_acc, best_weights, stale, step = 0.0, None, 0, 0
    encoder.train()
    done = False
    while not done:
        for tokens, labels in tr_dl:
            loss = loss_fn(encoder(tokens.to(device)), labels.to(device))
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(encoder.parameters(), 1.0)
            opt.step()
            step += 1

            if step % args.eval_every == 0:
                acc = dev_accuracy(encoder, dv_dl, device)
                print(f"step {step}: loss {loss.item():.4f} dev acc {acc:.4f}")
                if acc > best_acc:
                    best_acc, stale = acc, 0
                    best_weights = copy.deepcopy(encoder.state_dict())
                else:
                    stale += 1
            if stale >= args.patience or step >= args.max_steps:
                done = True
                break

    encoder.load_state_dict(best_weights)
    torch.save({"model": encoder.state_dict(), "vocab": vocab.itos}, "intent_best.pt")
    print(f"stopped at step {step}, best dev acc {best_acc:.4f}")


if __name__ == "__main__":
    main()
