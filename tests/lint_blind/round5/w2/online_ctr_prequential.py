"""Online (streaming) factorization machine for ad CTR with prequential evaluation.

Every mini-batch from the event stream is first scored (test) and then used for one SGD
update (train): "test-then-train". Metrics are reported over a sliding window.
"""
import collections
import json
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

from streaming.consumer import EventStream
from streaming.hashing import hash_features

N_BUCKETS = 2 ** 22
WINDOW = 200


class HashedFM(nn.Module):
    """Plain FM over hashed sparse features: only embeddings and a bias."""

    def __init__(self, n_buckets=N_BUCKETS, k=8):
        super().__init__()
        self.w0 = nn.Parameter(torch.zeros(1))
        self.w = nn.EmbeddingBag(n_buckets, 1, mode="sum")
        self.v = nn.Embedding(n_buckets, k)
        nn.init.normal_(self.v.weight, std=0.01)
        nn.init.zeros_(self.w.weight)

    def forward(self, idx):
        # idx: (batch, n_active) hashed feature ids
        linear = self.w(idx).squeeze(-1)
        v = self.v(idx)
        inter = 0.5 * (v.sum(1).pow(2) - v.pow(2).sum(1)).sum(1)
        return self.w0 + linear + inter


class PrequentialLearner:
    def __init__(self, lr=0.05, l2=1e-6):
        self.fm = HashedFM()
        self.opt = torch.optim.Adagrad(self.fm.parameters(), lr=lr, weight_decay=l2)
        self.window = collections.deque(maxlen=WINDOW)

    def predict(self, idx):
        self.fm.eval()
        with torch.no_grad():
            return torch.sigmoid(self.fm(idx))

    def update(self, idx, clicks):
        loss = F.binary_cross_entropy_with_logits(self.fm(idx), clicks)
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        return loss.item()

    def step(self, events):
        idx = torch.as_tensor(hash_features(events, N_BUCKETS), dtype=torch.long)
        clicks = torch.tensor([e["clicked"] for e in events], dtype=torch.float32)
        p = self.predict(idx)
        ll = F.binary_cross_entropy(p.clamp(1e-6, 1 - 1e-6), clicks).item()
        self.window.append((ll, p.mean().item(), clicks.mean().item()))
        return self.update(idx, clicks)

    def report(self):
        if not self.window:
            return {}
        lls, ps, ys = zip(*self.window)
        return {"prequential_logloss": sum(lls) / len(lls),
                "calibration": (sum(ps) / len(ps)) / max(sum(ys) / len(ys), 1e-6)}


def main():
    stream = EventStream(topic="ad-impressions", group="fm-online", batch_size=512)
    learner = PrequentialLearner()
    last_ckpt = time.time()
    for n, events in enumerate(stream):
        learner.step(events)
        if n % 1000 == 0:
            print(json.dumps({"batches": n, **learner.report()}))
        if time.time() - last_ckpt > 600:
            torch.save(learner.fm.state_dict(), "/models/fm_online/latest.pt")
            last_ckpt = time.time()


if __name__ == "__main__":
    main()
