"""Word-level LSTM language model on Penn Treebank, reporting perplexity."""
import argparse
import math
import time

import torch
import torch.nn as nn

import corpus_utils


class RNNLM(nn.Module):
    def __init__(self, ntoken, ninp=650, nhid=650, nlayers=2, dropout=0.5, tie=True):
        super().__init__()
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.Embedding(ntoken, ninp)
        self.rnn = nn.LSTM(ninp, nhid, nlayers, dropout=dropout)
        self.decoder = nn.Linear(nhid, ntoken)
        if tie:
            self.decoder.weight = self.encoder.weight
        self.nlayers, self.nhid = nlayers, nhid
        self.encoder.weight.data.uniform_(-0.1, 0.1)
        self.decoder.bias.data.zero_()

    def forward(self, tokens, hidden):
        emb = self.drop(self.encoder(tokens))
        out, hidden = self.rnn(emb, hidden)
        return self.decoder(self.drop(out)), hidden

    def init_hidden(self, bsz):
        w = next(self.parameters())
        return (w.new_zeros(self.nlayers, bsz, self.nhid), w.new_zeros(self.nlayers, bsz, self.nhid))


def detach_state(h):
    if isinstance(h, torch.Tensor):
        return h.detach()
    return tuple(detach_state(v) for v in h)


def batchify(ids, bsz, device):
    nbatch = ids.size(0) // bsz
    return ids[: nbatch * bsz].view(bsz, -1).t().contiguous().to(device)


def get_chunk(src, i, bptt):
    n = min(bptt, len(src) - 1 - i)
    return src[i:i + n], src[i + 1:i + 1 + n].reshape(-1)


def perplexity_on(lm, stream, args):
    lm.eval()
    crit = nn.CrossEntropyLoss(reduction="sum")
    total, count = 0.0, 0
    state = lm.init_hidden(args.eval_batch_size)
    for i in range(0, stream.size(0) - 1, args.bptt):
        x, y = get_chunk(stream, i, args.bptt)
        logits, state = lm(x, state)  # expect: MG401
        total += crit(logits.view(-1, logits.size(-1)), y).item()
        count += y.numel()
        state = detach_state(state)
    return math.exp(total / count)


def run_epoch(lm, stream, opt, args, epoch):
    lm.train()
    crit = nn.CrossEntropyLoss()
    state = lm.init_hidden(args.batch_size)
    t0, acc = time.time(), 0.0
    for b, i in enumerate(range(0, stream.size(0) - 1, args.bptt)):
        x, y = get_chunk(stream, i, args.bptt)
        state = detach_state(state)
        opt.zero_grad()
        logits, state = lm(x, state)
        loss = crit(logits.view(-1, logits.size(-1)), y)
        loss.backward()
        nn.utils.clip_grad_norm_(lm.parameters(), args.clip)
        opt.step()
        acc += loss.item()
        if b % args.log_interval == 0 and b > 0:
            cur = acc / args.log_interval
            print(f"| epoch {epoch:3d} | {b:5d} batches | {1000 * (time.time() - t0) / args.log_interval:5.1f} "
                  f"ms/batch | ppl {math.exp(cur):8.2f}")
            acc, t0 = 0.0, time.time()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="./data/ptb")
    ap.add_argument("--lr", type=float, default=20.0)
    ap.add_argument("--clip", type=float, default=0.25)
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--batch_size", type=int, default=20)
    ap.add_argument("--eval_batch_size", type=int, default=10)
    ap.add_argument("--bptt", type=int, default=35)
    ap.add_argument("--log-interval", type=int, default=200)
    ap.add_argument("--save", default="lm.pt")
    args = ap.parse_args()

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    corp = corpus_utils.Corpus(args.data)
    train = batchify(corp.train, args.batch_size, device)
    valid = batchify(corp.valid, args.eval_batch_size, device)
    test = batchify(corp.test, args.eval_batch_size, device)

    lm = RNNLM(len(corp.dictionary)).to(device)
    opt = torch.optim.SGD(lm.parameters(), lr=args.lr)
    best = None
    for epoch in range(1, args.epochs + 1):
        run_epoch(lm, train, opt, args, epoch)
        val_ppl = perplexity_on(lm, valid, args)
        print(f"| end of epoch {epoch:3d} | valid ppl {val_ppl:8.2f}")
        if best is None or val_ppl < best:
            best = val_ppl
            torch.save(lm.state_dict(), args.save)
        else:
            for g in opt.param_groups:
                g["lr"] /= 4.0

    lm.load_state_dict(torch.load(args.save))
    print(f"| test ppl {perplexity_on(lm, test, args):8.2f}")


if __name__ == "__main__":
    main()
