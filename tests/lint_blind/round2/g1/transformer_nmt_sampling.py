"""Train a small Transformer NMT model (de->en) on a bucketed parallel corpus.

Every ``--sample-every`` updates a handful of dev sentences are decoded with
beam search and printed, which makes it easy to eyeball progress.
"""
import argparse
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

from nmt_data import BucketIterator, Vocab, load_parallel


class PositionalEncoding(nn.Module):
    def __init__(self, d_model, dropout=0.1, max_len=512):
        super().__init__()
        self.drop = nn.Dropout(dropout)
        pe = torch.zeros(max_len, d_model)
        pos = torch.arange(max_len).unsqueeze(1).float()
        div = torch.exp(torch.arange(0, d_model, 2).float() * (-math.log(10000.0) / d_model))
        pe[:, 0::2] = torch.sin(pos * div)
        pe[:, 1::2] = torch.cos(pos * div)
        self.register_buffer("pe", pe.unsqueeze(0))

    def forward(self, x):
        return self.drop(x + self.pe[:, : x.size(1)])


class Seq2SeqTransformer(nn.Module):
    def __init__(self, n_src, n_tgt, d_model=256, nhead=4, layers=3, dropout=0.1):
        super().__init__()
        self.src_emb = nn.Embedding(n_src, d_model)
        self.tgt_emb = nn.Embedding(n_tgt, d_model)
        self.pos = PositionalEncoding(d_model, dropout)
        self.core = nn.Transformer(d_model, nhead, layers, layers, 4 * d_model, dropout,
                                   batch_first=True)
        self.proj = nn.Linear(d_model, n_tgt)
        self.scale = math.sqrt(d_model)

    def encode(self, src, src_pad):
        x = self.pos(self.src_emb(src) * self.scale)
        return self.core.encoder(x, src_key_padding_mask=src_pad)

    def decode(self, tgt, memory, src_pad):
        n = tgt.size(1)
        causal = torch.triu(torch.full((n, n), float("-inf"), device=tgt.device), 1)
        h = self.core.decoder(self.pos(self.tgt_emb(tgt) * self.scale), memory,
                              tgt_mask=causal, memory_key_padding_mask=src_pad)
        return self.proj(h)

    def forward(self, src, tgt_in, src_pad):
        return self.decode(tgt_in, self.encode(src, src_pad), src_pad)


class BeamTranslator:
    """Length-normalised beam search on top of a Seq2SeqTransformer."""

    def __init__(self, net, bos, eos, pad, beam=4, max_len=80, alpha=0.6):
        self.net = net
        self.bos, self.eos, self.pad = bos, eos, pad
        self.beam, self.max_len, self.alpha = beam, max_len, alpha

    @torch.no_grad()
    def translate(self, src):
        self.net.eval()  # expect: MG101
        src_pad = src.eq(self.pad)
        memory = self.net.encode(src, src_pad)
        return [self._search(memory[i:i + 1], src_pad[i:i + 1]) for i in range(src.size(0))]

    def _search(self, mem, mask):
        beams, done = [(0.0, [self.bos])], []
        for _ in range(self.max_len):
            cands = []
            for score, toks in beams:
                if toks[-1] == self.eos:
                    done.append((score, toks))
                    continue
                tgt = torch.tensor([toks], device=mem.device)
                logp = F.log_softmax(self.net.decode(tgt, mem, mask)[0, -1], dim=-1)
                top = logp.topk(self.beam)
                for lp, ix in zip(top.values.tolist(), top.indices.tolist()):
                    cands.append((score + lp, toks + [ix]))
            if not cands:
                break
            beams = sorted(cands, key=lambda c: c[0], reverse=True)[: self.beam]
        done.extend(beams)
        best = max(done, key=lambda c: c[0] / len(c[1]) ** self.alpha)
        return best[1][1:]


def noam(step, d_model, warmup):
    step = max(step, 1)
    return d_model ** -0.5 * min(step ** -0.5, step * warmup ** -1.5)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="data/iwslt14")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--tokens-per-batch", type=int, default=4096)
    ap.add_argument("--warmup", type=int, default=4000)
    ap.add_argument("--sample-every", type=int, default=1000)
    ap.add_argument("--save", default="nmt.pt")
    args = ap.parse_args()

    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    src_v, tgt_v = Vocab.load(f"{args.data}/vocab.de"), Vocab.load(f"{args.data}/vocab.en")
    train_pairs, dev_pairs = load_parallel(args.data, "train"), load_parallel(args.data, "valid")
    train_iter = BucketIterator(train_pairs, args.tokens_per_batch, shuffle=True)
    dev_src = torch.nn.utils.rnn.pad_sequence([torch.tensor(s) for s, _ in dev_pairs[:8]],
                                              batch_first=True, padding_value=src_v.pad)

    net = Seq2SeqTransformer(len(src_v), len(tgt_v)).to(dev)
    opt = torch.optim.Adam(net.parameters(), lr=1.0, betas=(0.9, 0.98), eps=1e-9)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: noam(s, 256, args.warmup))
    decoder = BeamTranslator(net, tgt_v.bos, tgt_v.eos, tgt_v.pad)

    updates = 0
    for epoch in range(args.epochs):
        net.train()
        t0, running = time.time(), 0.0
        for src, tgt in train_iter:
            src, tgt = src.to(dev), tgt.to(dev)
            logits = net(src, tgt[:, :-1], src.eq(src_v.pad))
            loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), tgt[:, 1:].reshape(-1),
                                   ignore_index=tgt_v.pad, label_smoothing=0.1)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()
            sched.step()
            updates += 1
            running += loss.item()

            if updates % args.sample_every == 0:
                for hyp in decoder.translate(dev_src.to(dev)):
                    print("  >>", tgt_v.decode(hyp))
        print(f"epoch {epoch} loss {running / len(train_iter):.3f} ({time.time() - t0:.0f}s)")
        torch.save(net.state_dict(), args.save)


if __name__ == "__main__":
    main()
