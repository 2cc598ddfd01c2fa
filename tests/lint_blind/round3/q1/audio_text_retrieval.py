"""Contrastive audio-caption retrieval (Clotho / AudioCaps), CLAP-style.

The two encoders live in a thin non-Module wrapper so that the audio branch can be
swapped (PANNs CNN14 or HTS-AT) without touching the training script.
"""
import argparse
import math

import numpy as np
import torch
import torch.nn.functional as F

from encoders import build_audio_encoder, build_text_encoder
from clotho import build_loaders


class RetrievalModel:
    def __init__(self, audio_arch, text_arch, embed_dim=512, device="cuda"):
        self.audio_enc = build_audio_encoder(audio_arch, embed_dim).to(device)   # CNN14: BN + dropout
        self.text_enc = build_text_encoder(text_arch, embed_dim).to(device)      # BERT: dropout
        self.logit_scale = torch.nn.Parameter(torch.tensor(math.log(1 / 0.07), device=device))
        self.device = device

    def parameters(self):
        yield from self.audio_enc.parameters()
        yield from self.text_enc.parameters()
        yield self.logit_scale

    def train_start(self):
        self.audio_enc.train()
        self.text_enc.train()

    def val_start(self):
        self.audio_enc.eval()  # expect: MG101
        self.text_enc.eval()  # expect: MG101

    def embed(self, audio, tokens):
        a = F.normalize(self.audio_enc(audio.to(self.device)), dim=-1)
        t = F.normalize(self.text_enc(**{k: v.to(self.device) for k, v in tokens.items()}), dim=-1)
        return a, t

    def state_dict(self):
        return {"audio": self.audio_enc.state_dict(), "text": self.text_enc.state_dict(),
                "logit_scale": self.logit_scale.detach()}


def symmetric_infonce(a, t, scale):
    logits = scale.exp().clamp(max=100) * a @ t.t()
    target = torch.arange(a.shape[0], device=a.device)
    return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.t(), target))


def recall_at(sim, ks=(1, 5, 10), captions_per_audio=5):
    """sim: (n_captions, n_audio); caption i belongs to audio i // captions_per_audio."""
    ranks = (-sim).argsort(dim=1)
    gt = torch.arange(sim.shape[0], device=sim.device) // captions_per_audio
    pos = (ranks == gt[:, None]).float().argmax(dim=1)
    return {f"t2a_R@{k}": (pos < k).float().mean().item() for k in ks}


def validate(model, loader):
    model.val_start()
    audio_embs, text_embs = [], []
    with torch.no_grad():
        for audio, tokens in loader:
            a, t = model.embed(audio, tokens)
            audio_embs.append(a[::5])   # each clip repeated for its 5 captions
            text_embs.append(t)
    sim = torch.cat(text_embs) @ torch.cat(audio_embs).t()
    return recall_at(sim)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--audio_arch", default="cnn14")
    ap.add_argument("--text_arch", default="bert-base-uncased")
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--val_step", type=int, default=500)
    args = ap.parse_args()

    train_loader, val_loader = build_loaders(args.data, batch_size=64)
    model = RetrievalModel(args.audio_arch, args.text_arch)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-2)
    best, step = 0.0, 0
    for epoch in range(args.epochs):
        model.train_start()
        for audio, tokens in train_loader:
            a, t = model.embed(audio, tokens)
            loss = symmetric_infonce(a, t, model.logit_scale)
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            if step % args.val_step == 0:
                r = validate(model, val_loader)
                print(f"step {step} loss {loss.item():.3f} " + " ".join(f"{k} {v:.3f}" for k, v in r.items()))
                if r["t2a_R@1"] > best:
                    best = r["t2a_R@1"]
                    torch.save(model.state_dict(), "best_retrieval.pt")
    print(f"best t2a R@1: {best:.4f}")


if __name__ == "__main__":
    main()
