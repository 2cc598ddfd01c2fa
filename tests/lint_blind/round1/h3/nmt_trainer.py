"""Attention LSTM translation model: step-wise training loop with periodic dev checks."""
import math
import random

import sacrebleu
import torch
import torch.nn as nn
import torch.nn.functional as F


class Seq2Seq(nn.Module):
    def __init__(self, src_vocab, tgt_vocab, emb=256, hid=512, layers=2, drop=0.3, pad=0):
        super().__init__()
        self.src_emb = nn.Embedding(src_vocab, emb, padding_idx=pad)
        self.tgt_emb = nn.Embedding(tgt_vocab, emb, padding_idx=pad)
        self.encoder = nn.LSTM(emb, hid, layers, dropout=drop, batch_first=True, bidirectional=True)
        self.bridge = nn.Linear(2 * hid, hid)
        self.decoder = nn.LSTM(emb + hid, hid, layers, dropout=drop, batch_first=True)
        self.attn = nn.Linear(hid, 2 * hid, bias=False)
        self.out = nn.Linear(hid + 2 * hid, tgt_vocab)
        self.drop = nn.Dropout(drop)
        self.layers = layers

    def encode(self, src):
        mem, _ = self.encoder(self.drop(self.src_emb(src)))
        init = torch.tanh(self.bridge(mem.mean(1)))
        h0 = init.unsqueeze(0).repeat(self.layers, 1, 1)
        return mem, (h0, torch.zeros_like(h0))

    def decode_step(self, tok, state, mem, ctx, src_mask):
        x = torch.cat([self.drop(self.tgt_emb(tok)), ctx], -1).unsqueeze(1)
        out, state = self.decoder(x, state)
        out = out.squeeze(1)
        scores = torch.einsum("bd,btd->bt", self.attn(out), mem).masked_fill(~src_mask, -1e9)
        new_ctx = torch.einsum("bt,btd->bd", scores.softmax(-1), mem)
        logits = self.out(self.drop(torch.cat([out, new_ctx], -1)))
        return logits, state, new_ctx[:, : ctx.size(-1)]

    def forward(self, src, tgt_in):
        mem, state = self.encode(src)
        mask = src.ne(0)
        ctx = mem.new_zeros(src.size(0), state[0].size(-1))
        steps = []
        for t in range(tgt_in.size(1)):
            logits, state, ctx = self.decode_step(tgt_in[:, t], state, mem, ctx, mask)
            steps.append(logits)
        return torch.stack(steps, 1)


class Learner:
    def __init__(self, model, vocab, lr=1e-3, eval_every=2000, clip=1.0, device="cuda"):
        self.model = model.to(device)
        self.vocab = vocab
        self.opt = torch.optim.Adam(model.parameters(), lr=lr)
        self.eval_every = eval_every
        self.clip = clip
        self.device = device
        self.step = 0

    def train_step(self, src, tgt):
        self.model.train()
        src, tgt = src.to(self.device), tgt.to(self.device)
        logits = self.model(src, tgt[:, :-1])
        loss = F.cross_entropy(logits.flatten(0, 1), tgt[:, 1:].flatten(), ignore_index=0,
                               label_smoothing=0.1)
        self.opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(self.model.parameters(), self.clip)
        self.opt.step()
        self.step += 1
        return loss.item()

    def dev_perplexity(self, loader):
        self.model.eval()
        nll, ntok = 0.0, 0
        with torch.no_grad():
            for src, tgt in loader:
                src, tgt = src.to(self.device), tgt.to(self.device)
                logits = self.model(src, tgt[:, :-1])
                nll += F.cross_entropy(logits.flatten(0, 1), tgt[:, 1:].flatten(),
                                       ignore_index=0, reduction="sum").item()
                ntok += tgt[:, 1:].ne(0).sum().item()
        return math.exp(nll / ntok)

    @torch.no_grad()
    def greedy(self, src, max_len=100, bos=1, eos=2):
        self.model.eval()
        src = src.to(self.device)
        mem, state = self.model.encode(src)
        ctx = mem.new_zeros(src.size(0), state[0].size(-1))
        tok = torch.full((src.size(0),), bos, dtype=torch.long, device=self.device)
        out = []
        for _ in range(max_len):
            logits, state, ctx = self.model.decode_step(tok, state, mem, ctx, src.ne(0))
            tok = logits.argmax(-1)
            out.append(tok)
            if (tok == eos).all():
                break
        return torch.stack(out, 1).tolist()

    def fit(self, train_loader, dev_loader, dev_refs, epochs=15):
        for epoch in range(epochs):
            for src, tgt in train_loader:
                loss = self.train_step(src, tgt)
                if self.step % self.eval_every == 0:
                    ppl = self.dev_perplexity(dev_loader)
                    src_b, _ = next(iter(dev_loader))
                    hyp = [self.vocab.detok(h) for h in self.greedy(src_b[:4])]
                    print(f"step {self.step} loss {loss:.3f} dev ppl {ppl:.2f} | {random.choice(hyp)}")
        hyps = []
        for src, _ in dev_loader:
            hyps.extend(self.vocab.detok(h) for h in self.greedy(src))
        return sacrebleu.corpus_bleu(hyps, [dev_refs]).score
