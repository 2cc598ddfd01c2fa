"""Audio <-> caption retrieval (Clotho).  Two encoders + a projection, wrapped in a plain object."""
import argparse
import logging

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from clotho import build_loaders
from encoders import PANNsCNN14, SentenceBERT

logger = logging.getLogger("a2t")


class RetrievalSystem:
    def __init__(self, cfg, device):
        self.device = device
        self.audio_enc = PANNsCNN14(pretrained=cfg.pann_ckpt).to(device)
        self.text_enc = SentenceBERT(cfg.text_model).to(device)
        self.audio_proj = nn.Sequential(nn.Linear(2048, 1024), nn.GELU(), nn.Dropout(0.1), nn.Linear(1024, 512)).to(device)
        self.text_proj = nn.Sequential(nn.Linear(768, 1024), nn.GELU(), nn.Dropout(0.1), nn.Linear(1024, 512)).to(device)
        self.logit_scale = nn.Parameter(torch.tensor(np.log(1 / 0.07), dtype=torch.float32, device=device))
        params = [self.logit_scale]
        for m in self.modules():
            params += list(m.parameters())
        self.optim = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=1e-4)

    def modules(self):
        return [self.audio_enc, self.text_enc, self.audio_proj, self.text_proj]

    def train_start(self):
        for m in self.modules():
            m.train()

    def val_start(self):
        for m in self.modules():
            m.eval()

    def encode(self, wav, captions):
        a = F.normalize(self.audio_proj(self.audio_enc(wav.to(self.device))), dim=-1)
        t = F.normalize(self.text_proj(self.text_enc(captions)), dim=-1)
        return a, t

    def step(self, wav, captions):
        a, t = self.encode(wav, captions)
        logits = self.logit_scale.exp().clamp(max=100) * a @ t.t()
        target = torch.arange(a.size(0), device=self.device)
        loss = 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.t(), target))
        self.optim.zero_grad()
        loss.backward()
        self.optim.step()
        return loss.item()

    def state_dict(self):
        return {"audio_enc": self.audio_enc.state_dict(), "text_enc": self.text_enc.state_dict(),
                "audio_proj": self.audio_proj.state_dict(), "text_proj": self.text_proj.state_dict(),
                "logit_scale": self.logit_scale.detach().cpu()}


@torch.no_grad()
def a2t_recall(system, loader, ks=(1, 5, 10)):
    system.val_start()
    audio, text = [], []
    for wav, caps in loader:  # five captions per clip, flattened in the collate fn
        a, t = system.encode(wav, caps)
        audio.append(a.cpu())
        text.append(t.cpu())
    audio = torch.cat(audio)
    text = torch.cat(text)
    sims = audio @ text.t()
    ranks = []
    for i in range(audio.size(0)):
        order = sims[i].argsort(descending=True)
        gt = torch.arange(5 * i, 5 * i + 5)
        ranks.append(torch.isin(order, gt).nonzero()[0].item())
    ranks = np.asarray(ranks)
    return {f"R@{k}": float((ranks < k).mean() * 100) for k in ks}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pann_ckpt", default="weights/Cnn14_mAP=0.431.pth")
    ap.add_argument("--text_model", default="sentence-transformers/all-mpnet-base-v2")
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--val_every", type=int, default=300)
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO)

    device = torch.device("cuda")
    train_loader, val_loader = build_loaders(batch_size=32)
    system = RetrievalSystem(args, device)

    best, it = 0.0, 0
    for epoch in range(args.epochs):
        for wav, caps in train_loader:
            system.train_start()
            loss = system.step(wav, caps)
            it += 1
            if it % 50 == 0:
                logger.info("epoch %d it %d loss %.4f", epoch, it, loss)
            if it % args.val_every == 0:
                r = a2t_recall(system, val_loader)
                logger.info("it %d %s", it, r)
                if r["R@1"] > best:
                    best = r["R@1"]
                    torch.save(system.state_dict(), "a2t_best.pt")


if __name__ == "__main__":
    main()
