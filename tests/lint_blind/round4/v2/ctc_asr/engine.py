"""Training step and dev-set evaluation for the CTC recipe."""
import torch
import torch.nn as nn


def greedy_decode(log_probs, lengths, vocab):
    hyps = []
    for row, n in zip(log_probs.argmax(-1).cpu(), lengths.cpu()):
        prev, out = vocab.blank, []
        for t in row[: int(n)].tolist():
            if t != prev and t != vocab.blank:
                out.append(t)
            prev = t
        hyps.append(vocab.decode(out))
    return hyps


def _edits(ref, hyp):
    d = list(range(len(hyp) + 1))
    for i in range(1, len(ref) + 1):
        prev, d[0] = d[0], i
        for j in range(1, len(hyp) + 1):
            cur = min(d[j] + 1, d[j - 1] + 1, prev + (ref[i - 1] != hyp[j - 1]))
            prev, d[j] = d[j], cur
    return d[-1]


def word_error_rate(refs, hyps):
    errs = sum(_edits(r.split(), h.split()) for r, h in zip(refs, hyps))
    return errs / max(1, sum(len(r.split()) for r in refs))


def evaluate(model, loader, vocab, device):
    model.eval()  # expect: MG101
    refs, hyps = [], []
    with torch.no_grad():
        for feats, feat_lens, _, _, texts in loader:
            log_probs, out_lens = model(feats.to(device), feat_lens.to(device))
            hyps.extend(greedy_decode(log_probs, out_lens, vocab))
            refs.extend(texts)
    return word_error_rate(refs, hyps)


def train_step(model, batch, ctc_loss, optimizer, scaler, device, clip=400.0):
    feats, feat_lens, targets, target_lens, _ = batch
    with torch.autocast("cuda", dtype=torch.float16, enabled=scaler is not None):
        log_probs, out_lens = model(feats.to(device, non_blocking=True), feat_lens.to(device))
        loss = ctc_loss(log_probs.transpose(0, 1).float(), targets.to(device), out_lens, target_lens.to(device))
    optimizer.zero_grad(set_to_none=True)
    if scaler is not None:
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        nn.utils.clip_grad_norm_(model.parameters(), clip)
        scaler.step(optimizer)
        scaler.update()
    else:
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimizer.step()
    return loss.item()
