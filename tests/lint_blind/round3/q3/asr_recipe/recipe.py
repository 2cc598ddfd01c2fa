"""Train Conformer-CTC on LibriSpeech 100h.

python recipe.py --manifest data/train_clean_100.jsonl --dev data/dev_clean.jsonl
"""
import argparse
import logging

import torch
import torch.nn as nn

from asrdata import BucketLoader, SentencePieceTok
from decoding import score_dev
from model import ConformerCTC


def noam(step, d=256, warmup=25_000):
    step = max(step, 1)
    return d ** -0.5 * min(step ** -0.5, step * warmup ** -1.5)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--manifest", required=True)
    ap.add_argument("--dev", required=True)
    ap.add_argument("--spm", default="data/spm_256.model")
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--max_frames", type=int, default=20_000)
    ap.add_argument("--accum", type=int, default=4)
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    device = torch.device("cuda")
    tok = SentencePieceTok(args.spm)
    train_dl = BucketLoader(args.manifest, tok, max_frames=args.max_frames, shuffle=True)
    dev_dl = BucketLoader(args.dev, tok, max_frames=40_000, shuffle=False)
    model = ConformerCTC(vocab=tok.vocab_size).to(device)
    ctc = nn.CTCLoss(blank=tok.blank_id, zero_infinity=True)
    opt = torch.optim.AdamW(model.parameters(), lr=1.0, betas=(0.9, 0.98), weight_decay=1e-3)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, noam)

    best = float("inf")
    for epoch in range(args.epochs):
        model.train()
        for i, batch in enumerate(train_dl):
            log_probs, out_lens = model(batch["feats"].to(device), batch["feat_lens"].to(device))
            loss = ctc(log_probs.transpose(0, 1), batch["tokens"].to(device), out_lens,
                       batch["token_lens"].to(device)) / args.accum
            loss.backward()
            if (i + 1) % args.accum == 0:
                nn.utils.clip_grad_norm_(model.parameters(), 5.0)
                opt.step()
                sched.step()
                opt.zero_grad(set_to_none=True)

        wer, hyps, refs = score_dev(model, dev_dl, tok, device)
        logging.info("epoch %d dev WER %.2f%%", epoch, 100 * wer)
        for h, r in zip(hyps, refs):
            logging.info("  REF: %s\n  HYP: %s", r, h)
        if wer < best:
            best = wer
            torch.save(model.state_dict(), "conformer_ctc_best.pt")


if __name__ == "__main__":
    main()
