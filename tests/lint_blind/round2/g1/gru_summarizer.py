"""Pointer-free GRU encoder-decoder with Bahdanau attention for headline generation.

Beam-search samples and ROUGE-L on a dev slice are produced every few hundred
updates through ``ModelInInferenceMode``, which restores the previous mode on exit.
"""
import argparse
import heapq

import torch
import torch.nn as nn
import torch.nn.functional as F
from rouge_score import rouge_scorer

from headline_data import HeadlineCorpus


class ModelInInferenceMode:
    def __init__(self, *modules):
        self.modules = modules
        self._saved = None
        self._grad = None

    def __enter__(self):
        self._saved = [m.training for m in self.modules]
        for m in self.modules:
            m.eval()
        self._grad = torch.is_grad_enabled()
        torch.set_grad_enabled(False)
        return self

    def __exit__(self, *exc):
        torch.set_grad_enabled(self._grad)
        for m, flag in zip(self.modules, self._saved):
            m.train(flag)
        return False


class Encoder(nn.Module):
    def __init__(self, vocab, emb=256, hid=256, p=0.3):
        super().__init__()
        self.emb = nn.Embedding(vocab, emb, padding_idx=0)
        self.rnn = nn.GRU(emb, hid, num_layers=2, dropout=p, bidirectional=True, batch_first=True)
        self.bridge = nn.Linear(2 * hid, hid)

    def forward(self, src):
        out, h = self.rnn(self.emb(src))
        h = torch.tanh(self.bridge(torch.cat([h[-2], h[-1]], -1)))
        return out, h


class AttnDecoder(nn.Module):
    def __init__(self, vocab, emb=256, hid=256, p=0.3):
        super().__init__()
        self.emb = nn.Embedding(vocab, emb, padding_idx=0)
        self.att_w = nn.Linear(2 * hid + hid, hid)
        self.att_v = nn.Linear(hid, 1, bias=False)
        self.cell = nn.GRUCell(emb + 2 * hid, hid)
        self.drop = nn.Dropout(p)
        self.out = nn.Linear(hid + 2 * hid, vocab)

    def forward(self, y_prev, h, enc_out, src_mask):
        e = self.att_v(torch.tanh(self.att_w(torch.cat([enc_out, h[:, None].expand(-1, enc_out.size(1), -1)], -1))))
        a = F.softmax(e.squeeze(-1).masked_fill(~src_mask, -1e9), dim=-1)
        ctx = torch.bmm(a[:, None], enc_out).squeeze(1)
        h = self.cell(torch.cat([self.drop(self.emb(y_prev)), ctx], -1), h)
        return F.log_softmax(self.out(self.drop(torch.cat([h, ctx], -1))), -1), h


def beam_search(enc, dec, src, bos, eos, k=5, max_len=30):
    enc_out, h = enc(src[None])
    mask = src[None].ne(0)
    beams = [(0.0, [bos], h)]
    finished = []
    for _ in range(max_len):
        pool = []
        for score, seq, hid in beams:
            logp, nh = dec(torch.tensor([seq[-1]], device=src.device), hid, enc_out, mask)
            vals, idx = logp[0].topk(k)
            for v, i in zip(vals.tolist(), idx.tolist()):
                item = (score + v, seq + [i], nh)
                (finished if i == eos else pool).append(item)
        beams = heapq.nlargest(k, pool, key=lambda x: x[0])
        if len(finished) >= k or not beams:
            break
    best = max(finished or beams, key=lambda x: x[0] / len(x[1]))
    return best[1][1:-1] if best[1][-1] == eos else best[1][1:]


def teacher_forced_loss(enc, dec, src, tgt):
    enc_out, h = enc(src)
    mask = src.ne(0)
    loss = 0.0
    for t in range(tgt.size(1) - 1):
        logp, h = dec(tgt[:, t], h, enc_out, mask)
        loss = loss + F.nll_loss(logp, tgt[:, t + 1], ignore_index=0)
    return loss / (tgt.size(1) - 1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="data/gigaword")
    ap.add_argument("--updates", type=int, default=200000)
    ap.add_argument("--check_every", type=int, default=2000)
    args = ap.parse_args()
    dev = torch.device("cuda")

    corpus = HeadlineCorpus(args.data)
    enc, dec = Encoder(len(corpus.vocab)).to(dev), AttnDecoder(len(corpus.vocab)).to(dev)
    params = list(enc.parameters()) + list(dec.parameters())
    opt = torch.optim.Adam(params, lr=1e-3)
    scorer = rouge_scorer.RougeScorer(["rougeL"])
    dev_slice = corpus.dev_pairs[:200]

    enc.train()
    dec.train()
    for upd, (src, tgt) in enumerate(corpus.batches("train", 64, forever=True), 1):
        loss = teacher_forced_loss(enc, dec, src.to(dev), tgt.to(dev))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(params, 2.0)
        opt.step()

        if upd % args.check_every == 0:
            with ModelInInferenceMode(enc, dec):
                r = []
                for s, ref in dev_slice:
                    hyp = beam_search(enc, dec, s.to(dev), corpus.bos, corpus.eos)
                    r.append(scorer.score(ref, corpus.vocab.decode(hyp))["rougeL"].fmeasure)
            print(f"update {upd} loss {loss.item():.3f} dev ROUGE-L {100 * sum(r) / len(r):.2f}")
        if upd >= args.updates:
            break
    torch.save({"enc": enc.state_dict(), "dec": dec.state_dict()}, "summarizer.pt")


if __name__ == "__main__":
    main()
