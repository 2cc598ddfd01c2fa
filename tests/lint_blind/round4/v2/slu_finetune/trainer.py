#!/usr/bin/env python
"""Fine-tune a pretrained speech encoder for intent classification (Fluent Speech Commands).

    python trainer.py --encoder ckpt/ssl_encoder.pt --data /data/fsc
"""
import argparse
import os

import torch
import torch.nn.functional as F

from encoder import IntentModel, load_pretrained_encoder
from freeze import count_trainable, freeze_bn_statistics, layerwise_lr_groups
from metrics import evaluate_intents
from fsc_data import fsc_loaders


class IntentTrainer:
    def __init__(self, model, loaders, optimizer, device, out_dir, grad_accum=1):
        self.model = model
        self.train_dl, self.valid_dl, self.test_dl = loaders
        self.optimizer = optimizer
        self.device = device
        self.out_dir = out_dir
        self.grad_accum = grad_accum

    def _epoch(self):
        self.model.train()
        total = 0.0
        for i, (mels, lengths, intents) in enumerate(self.train_dl):
            logits = self.model(mels.to(self.device), lengths.to(self.device))
            loss = F.cross_entropy(logits, intents.to(self.device), label_smoothing=0.05)
            (loss / self.grad_accum).backward()
            if (i + 1) % self.grad_accum == 0:
                self.optimizer.step()
                self.optimizer.zero_grad()
            total += loss.item()
        return total / len(self.train_dl)

    def fit(self, epochs):
        best = -1.0
        for ep in range(epochs):
            train_loss = self._epoch()
            scores = evaluate_intents(self.model, self.valid_dl, self.device)
            print(f"epoch {ep}: train {train_loss:.4f} valid acc {scores['acc']:.4f} f1 {scores['macro_f1']:.4f}")
            if scores["acc"] > best:
                best = scores["acc"]
                torch.save(self.model.state_dict(), os.path.join(self.out_dir, "best.pt"))
        self.model.load_state_dict(torch.load(os.path.join(self.out_dir, "best.pt")))
        return evaluate_intents(self.model, self.test_dl, self.device)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--encoder", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--lr", type=float, default=2e-4)
    ap.add_argument("--batch-size", type=int, default=6)
    ap.add_argument("--out", default="exp/fsc")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    loaders = fsc_loaders(args.data, batch_size=args.batch_size)
    model = IntentModel(load_pretrained_encoder(args.encoder), n_intents=31).to(device)
    n = freeze_bn_statistics(model.encoder)
    print(f"kept running statistics of {n} BatchNorm layers; {count_trainable(model)}")

    opt = torch.optim.AdamW(layerwise_lr_groups(model, args.lr), weight_decay=0.01)
    trainer = IntentTrainer(model, loaders, opt, device, args.out, grad_accum=4)
    print("test:", trainer.fit(args.epochs))


if __name__ == "__main__":
    main()
