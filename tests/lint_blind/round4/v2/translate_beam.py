#!/usr/bin/env python
"""Translate a file with a trained Transformer NMT checkpoint using batched beam search,
optionally rescoring the n-best list with a right-to-left model."""
import argparse
import sys

import sentencepiece as spm
import torch

from nmt.transformer import TransformerNMT


def load(path, device):
    ck = torch.load(path, map_location="cpu")
    net = TransformerNMT(**ck["args"])
    net.load_state_dict(ck["model"])
    return net.to(device).eval()


def batched_beam(net, src, beam, max_len, bos, eos, pad, len_pen=0.6):
    bsz = src.size(0)
    memory, src_mask = net.encode(src)
    memory = memory.repeat_interleave(beam, 0)
    src_mask = src_mask.repeat_interleave(beam, 0)
    seqs = torch.full((bsz * beam, 1), bos, dtype=torch.long, device=src.device)
    scores = torch.zeros(bsz, beam, device=src.device)
    scores[:, 1:] = float("-inf")
    done = torch.zeros(bsz * beam, dtype=torch.bool, device=src.device)
    for _ in range(max_len):
        logp = net.decode(seqs, memory, src_mask)[:, -1].log_softmax(-1)
        logp[done] = float("-inf")
        logp[done, pad] = 0.0
        vocab = logp.size(-1)
        cand = (scores.view(-1, 1) + logp).view(bsz, beam * vocab)
        top, idx = cand.topk(beam, dim=-1)
        origin = (idx // vocab) + torch.arange(bsz, device=src.device)[:, None] * beam
        tok = idx % vocab
        seqs = torch.cat([seqs[origin.view(-1)], tok.view(-1, 1)], dim=1)
        done = done[origin.view(-1)] | tok.view(-1).eq(eos)
        scores = top
        if done.all():
            break
    lengths = seqs.ne(pad).sum(1).float().view(bsz, beam)
    normed = scores / (((5 + lengths) / 6) ** len_pen)
    return seqs.view(bsz, beam, -1), normed


def rescore_r2l(r2l, src, nbest, pad):
    bsz, beam, _ = nbest.shape
    flat = nbest.view(bsz * beam, -1).flip(1)
    src_rep = src.repeat_interleave(beam, 0)
    logits = r2l(src_rep, flat[:, :-1])
    lp = logits.log_softmax(-1).gather(-1, flat[:, 1:, None]).squeeze(-1)
    return (lp * flat[:, 1:].ne(pad)).sum(1).view(bsz, beam)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--r2l-ckpt")
    ap.add_argument("--spm", required=True)
    ap.add_argument("--beam", type=int, default=5)
    ap.add_argument("--batch", type=int, default=32)
    args = ap.parse_args()

    device = "cuda" if torch.cuda.is_available() else "cpu"
    sp = spm.SentencePieceProcessor(model_file=args.spm)
    net = load(args.ckpt, device)
    r2l = load(args.r2l_ckpt, device) if args.r2l_ckpt else None
    bos, eos, pad = sp.bos_id(), sp.eos_id(), sp.pad_id()

    lines = [l.rstrip("\n") for l in sys.stdin]
    with torch.inference_mode():
        for i in range(0, len(lines), args.batch):
            ids = [sp.encode(l) + [eos] for l in lines[i:i + args.batch]]
            width = max(map(len, ids))
            src = torch.tensor([x + [pad] * (width - len(x)) for x in ids], device=device)
            nbest, score = batched_beam(net, src, args.beam, int(width * 1.5) + 10, bos, eos, pad)
            if r2l is not None:
                score = score + 0.5 * rescore_r2l(r2l, src, nbest, pad)
            best = nbest[torch.arange(src.size(0)), score.argmax(-1)]
            for row in best.tolist():
                row = [t for t in row[1:] if t not in (pad, eos)]
                print(sp.decode(row))


if __name__ == "__main__":
    main()
