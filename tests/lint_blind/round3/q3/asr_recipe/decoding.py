"""Greedy CTC decoding and WER scoring on the dev set."""
import editdistance


def collapse(ids, blank):
    out, prev = [], None
    for i in ids:
        if i != prev and i != blank:
            out.append(i)
        prev = i
    return out


def greedy_ctc(log_probs, out_lens, blank=0):
    best = log_probs.argmax(-1).cpu().tolist()
    return [collapse(seq[:n], blank) for seq, n in zip(best, out_lens.tolist())]


def word_error_rate(hyps, refs):
    errs = sum(editdistance.eval(h.split(), r.split()) for h, r in zip(hyps, refs))
    return errs / max(1, sum(len(r.split()) for r in refs))


def score_dev(model, loader, tokenizer, device, max_batches=None):
    model.eval()
    hyps, refs = [], []
    for i, batch in enumerate(loader):
        if max_batches is not None and i >= max_batches:
            break
        feats = batch["feats"].to(device)
        lens = batch["feat_lens"].to(device)
        log_probs, out_lens = model(feats, lens)  # expect: MG401
        hyps += [tokenizer.decode(ids) for ids in greedy_ctc(log_probs, out_lens, tokenizer.blank_id)]
        refs += batch["text"]
    model.train()
    return word_error_rate(hyps, refs), hyps[:3], refs[:3]


def char_error_rate(hyps, refs):
    errs = sum(editdistance.eval(list(h), list(r)) for h, r in zip(hyps, refs))
    return errs / max(1, sum(len(r) for r in refs))
