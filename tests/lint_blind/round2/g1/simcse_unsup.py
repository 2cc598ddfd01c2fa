"""Unsupervised SimCSE: the same sentence is encoded twice and the two dropout
masks act as the only augmentation. Checkpoint selection on STS-B dev."""
import argparse
import logging

import torch
import torch.nn as nn
import torch.nn.functional as F
from scipy.stats import spearmanr
from torch.utils.data import DataLoader
from transformers import AutoModel, AutoTokenizer

from sts_io import read_sts_dev, read_wiki_sentences

logger = logging.getLogger(__name__)


class Encoder(nn.Module):
    def __init__(self, name, pooler="cls_mlp"):
        super().__init__()
        self.bert = AutoModel.from_pretrained(name)
        hid = self.bert.config.hidden_size
        self.mlp = nn.Sequential(nn.Linear(hid, hid), nn.Tanh())
        self.pooler = pooler

    def forward(self, input_ids, attention_mask, use_mlp=True):
        h = self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state[:, 0]
        return self.mlp(h) if use_mlp else h


def info_nce(z1, z2, temp=0.05):
    sim = F.cosine_similarity(z1.unsqueeze(1), z2.unsqueeze(0), dim=-1) / temp
    return F.cross_entropy(sim, torch.arange(sim.size(0), device=sim.device))


def _embed(encoder, tok, sents, device, bs=128):
    out = []
    for i in range(0, len(sents), bs):
        enc = tok(sents[i:i + bs], padding=True, truncation=True, max_length=64, return_tensors="pt").to(device)
        out.append(encoder(enc["input_ids"], enc["attention_mask"], use_mlp=False))
    return torch.cat(out)


def sts_spearman(encoder, tok, pairs, device):
    encoder.eval()  # expect: MG101
    with torch.no_grad():
        a = _embed(encoder, tok, [p[0] for p in pairs], device)
        b = _embed(encoder, tok, [p[1] for p in pairs], device)
    sims = F.cosine_similarity(a, b).cpu().numpy()
    return spearmanr(sims, [p[2] for p in pairs]).correlation


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="bert-base-uncased")
    ap.add_argument("--wiki", default="data/wiki1m_for_simcse.txt")
    ap.add_argument("--sts_dev", default="data/stsbenchmark/sts-dev.csv")
    ap.add_argument("--bs", type=int, default=64)
    ap.add_argument("--lr", type=float, default=3e-5)
    ap.add_argument("--eval_steps", type=int, default=250)
    ap.add_argument("--out", default="out/unsup-simcse")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO)

    device = torch.device("cuda")
    tok = AutoTokenizer.from_pretrained(args.model)
    enc = Encoder(args.model).to(device)
    sents = read_wiki_sentences(args.wiki)
    dev_pairs = read_sts_dev(args.sts_dev)
    loader = DataLoader(sents, batch_size=args.bs, shuffle=True, drop_last=True)
    opt = torch.optim.AdamW(enc.parameters(), lr=args.lr)
    sched = torch.optim.lr_scheduler.LinearLR(opt, 1.0, 0.0, total_iters=len(loader))

    best = -1.0
    enc.train()
    for step, batch in enumerate(loader, 1):
        t = tok(list(batch), padding=True, truncation=True, max_length=32, return_tensors="pt").to(device)
        ids = t["input_ids"].repeat(2, 1)
        mask = t["attention_mask"].repeat(2, 1)
        z = enc(ids, mask)
        z1, z2 = z.chunk(2)
        loss = info_nce(z1, z2)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()

        if step % args.eval_steps == 0:
            rho = sts_spearman(enc, tok, dev_pairs, device)
            logger.info("step %d loss %.4f stsb-dev %.4f", step, loss.item(), rho)
            if rho > best:
                best = rho
                enc.bert.save_pretrained(args.out)
                tok.save_pretrained(args.out)
    logger.info("best dev spearman %.4f", best)


if __name__ == "__main__":
    main()
