#!/usr/bin/env python
"""Train the BiLSTM-CTC recipe: python train.py --train train.json --dev dev.json"""
import argparse
import os

import torch
import torch.nn as nn

from data import CharVocab, make_loader
from engine import evaluate, train_step
from model import build_model


def parse():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", required=True)
    ap.add_argument("--dev", required=True)
    ap.add_argument("--epochs", type=int, default=70)
    ap.add_argument("--batch-size", type=int, default=20)
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--val-every", type=int, default=2500, help="updates between dev evaluations")
    ap.add_argument("--freeze-front-bn", action="store_true",
                    help="do not train the scale/shift of the conv front-end norms")
    ap.add_argument("--amp", action="store_true")
    ap.add_argument("--save", default="exp/bilstm_ctc")
    return ap.parse_args()


def main():
    args = parse()
    device = torch.device("cuda")
    vocab = CharVocab()
    model = build_model({"n_mels": 80, "vocab_size": len(vocab)}).to(device)

    if args.freeze_front_bn:
        for m in model.subsampler.modules():
            if isinstance(m, nn.BatchNorm2d):
                for p in m.parameters():
                    p.requires_grad = False  # expect: MG302

    train_dl = make_loader(args.train, vocab, args.batch_size, train=True)
    dev_dl = make_loader(args.dev, vocab, 32, train=False)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=args.lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=args.lr,
                                                total_steps=args.epochs * len(train_dl))
    ctc_loss = nn.CTCLoss(blank=vocab.blank, reduction="mean", zero_infinity=True)
    scaler = torch.cuda.amp.GradScaler() if args.amp else None

    os.makedirs(args.save, exist_ok=True)
    best_wer, updates = float("inf"), 0
    for epoch in range(args.epochs):
        model.train()
        for batch in train_dl:
            loss = train_step(model, batch, ctc_loss, optimizer, scaler, device)
            sched.step()
            updates += 1
            if updates % 100 == 0:
                print(f"epoch {epoch} update {updates} ctc {loss:.3f}")
            if updates % args.val_every == 0:
                wer = evaluate(model, dev_dl, vocab, device)
                print(f"update {updates}: dev WER {wer:.2%}")
                if wer < best_wer:
                    best_wer = wer
                    torch.save({"model": model.state_dict(), "wer": wer}, os.path.join(args.save, "best.pt"))


if __name__ == "__main__":
    main()
