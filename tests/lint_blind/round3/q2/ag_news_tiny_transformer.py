"""AG News with a 4-layer transformer encoder written by hand (final project, DL course).
Tokenisation comes from the project's data module."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from project_data import get_agnews_loaders

VOCAB, MAXLEN, D, HEADS, LAYERS, N_CLS = 30000, 128, 256, 4, 4, 4
P_DROP = 0.1


class SelfAttention(nn.Module):
    def __init__(self, d, h, p):
        super().__init__()
        self.h = h
        self.qkv = nn.Linear(d, 3 * d)
        self.o = nn.Linear(d, d)
        self.p = p

    def forward(self, x, pad_mask):
        b, t, d = x.shape
        q, k, v = self.qkv(x).view(b, t, 3, self.h, d // self.h).permute(2, 0, 3, 1, 4)
        keep = ~pad_mask[:, None, None, :]           # True where attention is allowed
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=keep,
                                           dropout_p=self.p if self.training else 0.0)
        y = y.transpose(1, 2).reshape(b, t, d)
        return F.dropout(self.o(y), p=self.p, training=self.training)


class EncoderLayer(nn.Module):
    def __init__(self, d, h, p):
        super().__init__()
        self.att = SelfAttention(d, h, p)
        self.n1 = nn.LayerNorm(d)
        self.n2 = nn.LayerNorm(d)
        self.ff1 = nn.Linear(d, 4 * d)
        self.ff2 = nn.Linear(4 * d, d)
        self.p = p

    def forward(self, x, pad_mask):
        x = x + self.att(self.n1(x), pad_mask)
        h = F.dropout(F.gelu(self.ff1(self.n2(x))), self.p, self.training)
        return x + F.dropout(self.ff2(h), p=self.p, training=self.training)


class NewsEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.tok = nn.Embedding(VOCAB, D, padding_idx=0)
        self.pos = nn.Parameter(torch.zeros(1, MAXLEN, D))
        self.layers = nn.ModuleList([EncoderLayer(D, HEADS, P_DROP) for _ in range(LAYERS)])
        self.norm = nn.LayerNorm(D)
        self.cls = nn.Linear(D, N_CLS)
        nn.init.normal_(self.pos, std=0.02)

    def forward(self, ids):
        pad = ids == 0
        x = self.tok(ids) * math.sqrt(D) + self.pos[:, : ids.size(1)]
        x = F.dropout(x, P_DROP, training=self.training)
        for layer in self.layers:
            x = layer(x, pad)
        x = self.norm(x).masked_fill(pad[..., None], 0.0)
        return self.cls(x.sum(1) / (~pad).sum(1, keepdim=True).clamp(min=1))


def run():
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    train_dl, test_dl = get_agnews_loaders(max_len=MAXLEN, batch_size=64)
    enc = NewsEncoder().to(dev)
    opt = torch.optim.AdamW(enc.parameters(), lr=5e-4, weight_decay=0.01)
    total = 3 * len(train_dl)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, s / 500) * max(0.0, 1 - s / total))

    for epoch in range(3):
        enc.train()
        for step, (ids, y) in enumerate(train_dl):
            ids, y = ids.to(dev), y.to(dev)
            loss = F.cross_entropy(enc(ids), y, label_smoothing=0.05)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(enc.parameters(), 1.0)
            opt.step()
            sched.step()
            if step % 500 == 0:
                print(epoch, step, f"{loss.item():.3f}")

        enc.eval()
        right = count = 0
        with torch.no_grad():
            for ids, y in test_dl:
                right += (enc(ids.to(dev)).argmax(-1).cpu() == y).sum().item()
                count += len(y)
        print(f"epoch {epoch} test acc {right / count:.4f}")


if __name__ == "__main__":
    run()
