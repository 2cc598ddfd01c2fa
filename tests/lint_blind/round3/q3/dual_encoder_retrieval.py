"""Dense passage retrieval: BERT query/passage towers + a shared projection head."""
import argparse

import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import AutoModel, AutoTokenizer

from dpr_data import PairLoader, load_dev_queries


class ProjectionHead(nn.Module):
    def __init__(self, dim_in, dim_out=256, p=0.1):
        super().__init__()
        self.fc1 = nn.Linear(dim_in, dim_in)
        self.drop = nn.Dropout(p)
        self.fc2 = nn.Linear(dim_in, dim_out)

    def forward(self, h):
        return F.normalize(self.fc2(self.drop(F.gelu(self.fc1(h)))), dim=-1)


class Retriever:
    """Not an nn.Module: holds the towers, the head and their optimizer."""

    def __init__(self, name, lr=2e-5, temp=0.05, device="cuda"):
        self.q_enc = AutoModel.from_pretrained(name).to(device)
        self.p_enc = AutoModel.from_pretrained(name).to(device)
        self.head = ProjectionHead(self.q_enc.config.hidden_size).to(device)
        params = list(self.q_enc.parameters()) + list(self.p_enc.parameters()) + list(self.head.parameters())
        self.opt = torch.optim.AdamW(params, lr=lr)
        self.temp = temp
        self.device = device

    def train_start(self):
        self.q_enc.train()
        self.p_enc.train()

    def val_start(self):
        self.q_enc.eval()
        self.p_enc.eval()
        self.head.eval()  # expect: MG101

    def embed(self, enc, batch):
        out = enc(**{k: v.to(self.device) for k, v in batch.items()})
        return self.head(out.last_hidden_state[:, 0])

    def step(self, q_batch, p_batch):
        q = self.embed(self.q_enc, q_batch)
        p = self.embed(self.p_enc, p_batch)
        logits = q @ p.t() / self.temp
        loss = F.cross_entropy(logits, torch.arange(q.size(0), device=self.device))
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        return loss.item()

    @torch.no_grad()
    def recall_at_k(self, queries, passages, gold, k=20):
        self.val_start()
        P = torch.cat([self.embed(self.p_enc, b) for b in passages])
        Q = torch.cat([self.embed(self.q_enc, b) for b in queries])
        top = (Q @ P.t()).topk(k, dim=-1).indices.cpu()
        return sum(int(g in row.tolist()) for g, row in zip(gold, top)) / len(gold)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="bert-base-uncased")
    ap.add_argument("--train", required=True)
    ap.add_argument("--dev", required=True)
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--dev_every", type=int, default=2000)
    args = ap.parse_args()

    tok = AutoTokenizer.from_pretrained(args.model)
    loader = PairLoader(args.train, tok, batch_size=64)
    dev_q, dev_p, dev_gold = load_dev_queries(args.dev, tok)
    r = Retriever(args.model)
    it = 0
    for epoch in range(args.epochs):
        r.train_start()
        for q_batch, p_batch in loader:
            loss = r.step(q_batch, p_batch)
            it += 1
            if it % args.dev_every == 0:
                rec = r.recall_at_k(dev_q, dev_p, dev_gold)
                print(f"ep {epoch} it {it} loss {loss:.4f} R@20 {rec:.4f}")
                r.train_start()


if __name__ == "__main__":
    main()
