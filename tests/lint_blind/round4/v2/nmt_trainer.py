"""Trainer for the GRU attention seq2seq baseline (IWSLT de-en).

Dev loss / token accuracy are reported every `dev_every` updates; after training the
best checkpoint translates the test set with beam search.
"""
import logging
import os
from dataclasses import dataclass

import torch
import torch.nn as nn

from nmt.models import AttnSeq2Seq
from nmt.data import load_iwslt, Vocab

logger = logging.getLogger(__name__)


@dataclass
class TrainCfg:
    lr: float = 1e-3
    epochs: int = 15
    clip: float = 1.0
    dev_every: int = 2000
    beam: int = 5
    max_len: int = 120
    save_dir: str = "ckpt/gru_attn"


class Seq2SeqTrainer:
    def __init__(self, net: nn.Module, train_iter, dev_iter, vocab: Vocab, cfg: TrainCfg):
        self.net = net
        self.train_iter = train_iter
        self.dev_iter = dev_iter
        self.vocab = vocab
        self.cfg = cfg
        self.opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
        self.crit = nn.CrossEntropyLoss(ignore_index=vocab.pad_id, label_smoothing=0.1)
        self.updates = 0
        self.best_dev = float("inf")

    def _dev_score(self):
        self.net.eval()  # expect: MG101
        tot_loss, tot_tok, hits = 0.0, 0, 0
        for src, src_len, tgt in self.dev_iter:
            dec_in, gold = tgt[:, :-1], tgt[:, 1:]
            logits = self.net(src, src_len, dec_in)  # expect: MG401
            mask = gold.ne(self.vocab.pad_id)
            tot_loss += self.crit(logits.reshape(-1, logits.size(-1)), gold.reshape(-1)).item() * mask.sum().item()
            hits += (logits.argmax(-1).eq(gold) & mask).sum().item()
            tot_tok += mask.sum().item()
        return tot_loss / tot_tok, hits / tot_tok

    def fit(self):
        os.makedirs(self.cfg.save_dir, exist_ok=True)
        for epoch in range(self.cfg.epochs):
            self.net.train()
            for src, src_len, tgt in self.train_iter:
                logits = self.net(src, src_len, tgt[:, :-1])
                loss = self.crit(logits.reshape(-1, logits.size(-1)), tgt[:, 1:].reshape(-1))
                self.opt.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(self.net.parameters(), self.cfg.clip)
                self.opt.step()
                self.updates += 1

                if self.updates % self.cfg.dev_every == 0:
                    dev_loss, dev_acc = self._dev_score()
                    logger.info("ep %d upd %d dev_loss %.3f dev_acc %.3f", epoch, self.updates, dev_loss, dev_acc)
                    if dev_loss < self.best_dev:
                        self.best_dev = dev_loss
                        torch.save(self.net.state_dict(), os.path.join(self.cfg.save_dir, "best.pt"))


def beam_search(net, src, src_len, bos, eos, beam, max_len):
    enc_out, hidden = net.encode(src, src_len)
    hyps = [([bos], 0.0, hidden)]
    finished = []
    for _ in range(max_len):
        candidates = []
        for tokens, score, h in hyps:
            logp, h_new = net.decode_step(torch.tensor([tokens[-1]], device=src.device), h, enc_out)
            top_lp, top_ix = logp.squeeze(0).topk(beam)
            for lp, ix in zip(top_lp.tolist(), top_ix.tolist()):
                candidates.append((tokens + [ix], score + lp, h_new))
        candidates.sort(key=lambda c: c[1] / len(c[0]), reverse=True)
        hyps = []
        for cand in candidates[:beam]:
            (finished if cand[0][-1] == eos else hyps).append(cand)
        if not hyps:
            break
    best = max(finished or hyps, key=lambda c: c[1] / len(c[0]))
    return best[0][1:-1] if best[0][-1] == eos else best[0][1:]


@torch.no_grad()
def translate_test(net, test_iter, vocab, cfg):
    net.eval()
    outputs = []
    for src, src_len, _ in test_iter:
        for i in range(src.size(0)):
            ids = beam_search(net, src[i:i + 1], src_len[i:i + 1], vocab.bos_id, vocab.eos_id, cfg.beam, cfg.max_len)
            outputs.append(vocab.decode(ids))
    return outputs


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    cfg = TrainCfg()
    vocab, train_it, dev_it, test_it = load_iwslt(batch_size=64)
    model = AttnSeq2Seq(len(vocab), emb=256, hidden=512, dropout=0.3)
    Seq2SeqTrainer(model, train_it, dev_it, vocab, cfg).fit()
    model.load_state_dict(torch.load(os.path.join(cfg.save_dir, "best.pt")))
    with open(os.path.join(cfg.save_dir, "test.hyp"), "w") as fh:
        fh.write("\n".join(translate_test(model, test_it, vocab, cfg)) + "\n")
