"""x-vector (TDNN) speaker encoder trained with additive angular margin softmax.

EER on a held-out trial list is computed every `eval_interval` optimisation steps.
"""
import math
import random

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from spk.data import VoxTrainSegments, load_trials, load_utterance_feats

config = {
    "feat_dim": 40, "emb_dim": 256, "margin": 0.2, "scale": 30.0,
    "lr": 1e-3, "steps": 120_000, "eval_interval": 5000, "batch": 128,
    "trials": "lists/vox1_o_cleaned.txt",
}


class TDNN(nn.Module):
    def __init__(self, feat_dim=40, emb_dim=256):
        super().__init__()
        spec = [(feat_dim, 512, 5, 1), (512, 512, 3, 2), (512, 512, 3, 3), (512, 512, 1, 1), (512, 1500, 1, 1)]
        self.frame = nn.Sequential(*[
            nn.Sequential(nn.Conv1d(i, o, k, dilation=d), nn.ReLU(), nn.BatchNorm1d(o))
            for i, o, k, d in spec])
        self.segment = nn.Sequential(nn.Linear(3000, emb_dim), nn.ReLU(), nn.BatchNorm1d(emb_dim),
                                     nn.Dropout(0.1))

    def forward(self, x):
        h = self.frame(x)
        stats = torch.cat([h.mean(-1), h.std(-1)], dim=1)
        return self.segment(stats)


class AAMSoftmax(nn.Module):
    def __init__(self, emb_dim, n_spk, m=0.2, s=30.0):
        super().__init__()
        self.W = nn.Parameter(torch.randn(n_spk, emb_dim) * 0.01)
        self.m, self.s = m, s
        self.cos_m, self.sin_m = math.cos(m), math.sin(m)
        self.th = math.cos(math.pi - m)
        self.mm = math.sin(math.pi - m) * m

    def forward(self, emb, label):
        cosine = F.linear(F.normalize(emb), F.normalize(self.W))
        sine = torch.sqrt((1.0 - cosine.pow(2)).clamp(0, 1))
        phi = cosine * self.cos_m - sine * self.sin_m
        phi = torch.where(cosine > self.th, phi, cosine - self.mm)
        onehot = torch.zeros_like(cosine).scatter_(1, label.view(-1, 1), 1)
        logits = self.s * (onehot * phi + (1 - onehot) * cosine)
        return F.cross_entropy(logits, label)


def equal_error_rate(scores, labels):
    order = np.argsort(scores)[::-1]
    labels = np.asarray(labels)[order]
    tp = np.cumsum(labels) / labels.sum()
    fp = np.cumsum(1 - labels) / (1 - labels).sum()
    fnr = 1 - tp
    idx = np.nanargmin(np.abs(fnr - fp))
    return float((fnr[idx] + fp[idx]) / 2)


def trial_eer(encoder, trials, device):
    was_training = encoder.training
    encoder.eval()
    cache = {}
    with torch.no_grad():
        for utt in {u for _, a, b in trials for u in (a, b)}:
            feats = load_utterance_feats(utt).to(device).unsqueeze(0)
            cache[utt] = F.normalize(encoder(feats), dim=1)[0]
    encoder.train(was_training)
    scores = [float(cache[a] @ cache[b]) for _, a, b in trials]
    return equal_error_rate(scores, [lab for lab, _, _ in trials])


def main(cfg=config):
    random.seed(0)
    torch.manual_seed(0)
    device = "cuda"
    data = VoxTrainSegments("/data/voxceleb2/feats", seconds=2.0)
    loader = torch.utils.data.DataLoader(data, batch_size=cfg["batch"], shuffle=True,
                                         num_workers=8, drop_last=True)
    encoder = TDNN(cfg["feat_dim"], cfg["emb_dim"]).to(device)
    head = AAMSoftmax(cfg["emb_dim"], data.n_speakers, cfg["margin"], cfg["scale"]).to(device)
    opt = torch.optim.Adam(list(encoder.parameters()) + list(head.parameters()), lr=cfg["lr"],
                           weight_decay=2e-5)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg["lr"], total_steps=cfg["steps"])
    trials = load_trials(cfg["trials"])

    step = 0
    encoder.train()
    head.train()
    while step < cfg["steps"]:
        for feats, spk in loader:
            loss = head(encoder(feats.to(device)), spk.to(device))
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            if step % cfg["eval_interval"] == 0:
                eer = trial_eer(encoder, trials, device)
                print(f"step {step}: loss {loss.item():.3f}  EER {100 * eer:.2f}%")
                torch.save(encoder.state_dict(), f"xvector_{step}.pt")
            if step == cfg["steps"]:
                break


if __name__ == "__main__":
    main()
