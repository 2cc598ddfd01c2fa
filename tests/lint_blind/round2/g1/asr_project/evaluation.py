"""Decoding and scoring helpers shared by train.py and the recipes."""
from typing import Iterable, List

import jiwer
import torch


def ctc_greedy(log_probs: torch.Tensor, lengths: torch.Tensor, blank: int = 0) -> List[List[int]]:
    best = log_probs.argmax(-1)
    hyps = []
    for seq, n in zip(best.tolist(), lengths.tolist()):
        out, prev = [], blank
        for tok in seq[:n]:
            if tok != blank and tok != prev:
                out.append(tok)
            prev = tok
        hyps.append(out)
    return hyps


def corpus_wer(acoustic_model, batches: Iterable, tokenizer, device="cuda", max_batches=None):
    """Greedy CTC decoding over ``batches``; returns (WER, CER)."""
    acoustic_model.train(False)  # expect: MG101
    refs, hyps = [], []
    with torch.inference_mode():
        for i, (feats, feat_lens, texts) in enumerate(batches):
            if max_batches is not None and i >= max_batches:
                break
            lp = acoustic_model(feats.to(device))
            for h, r in zip(ctc_greedy(lp.cpu(), feat_lens), texts):
                hyps.append(tokenizer.decode(h))
                refs.append(r)
    return jiwer.wer(refs, hyps), jiwer.cer(refs, hyps)


def alignment_report(refs: List[str], hyps: List[str], limit: int = 5) -> str:
    """Human-readable substitution/deletion/insertion breakdown for the logs."""
    out = jiwer.process_words(refs, hyps)
    lines = [f"S={out.substitutions} D={out.deletions} I={out.insertions} H={out.hits}"]
    for r, h in list(zip(refs, hyps))[:limit]:
        lines.append(f"REF: {r}")
        lines.append(f"HYP: {h}")
    return "\n".join(lines)


def length_buckets(refs: List[str], hyps: List[str], edges=(5, 10, 20, 40)):
    """WER split by reference length, to spot long-utterance degradation."""
    buckets = {}
    for r, h in zip(refs, hyps):
        n = len(r.split())
        key = next((e for e in edges if n <= e), "long")
        buckets.setdefault(key, ([], []))
        buckets[key][0].append(r)
        buckets[key][1].append(h)
    return {k: jiwer.wer(rs, hs) for k, (rs, hs) in buckets.items()}
