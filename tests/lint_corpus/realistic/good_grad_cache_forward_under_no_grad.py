"""Contrastive training with gradient caching: the first pass over the accumulated batches
embeds them under no_grad (to build the negatives), the second pass recomputes with gradients;
backward and the optimizer step happen in helpers. The no_grad forward is part of the training
step, not an evaluation."""
import torch
import torch.nn.functional as F


def apply_backward(loss, scaler):
    if scaler is not None:
        scaler.scale(loss).backward()
    else:
        loss.backward()


def finish(optimizer, scaler):
    if scaler is not None:
        scaler.step(optimizer)
        scaler.update()
    else:
        optimizer.step()


def cached_step(job, chunks, optimizer, scaler, temperature=0.07):
    with torch.no_grad():
        cached = [job.encoder(x) for x in chunks]
    optimizer.zero_grad()
    for i, x in enumerate(chunks):
        fresh = job.encoder(x)
        feats = torch.cat(cached[:i] + [fresh] + cached[i + 1:])
        logits = feats @ feats.t() / temperature
        apply_backward(F.cross_entropy(logits, torch.arange(len(feats))), scaler)
    finish(optimizer, scaler)


def train_epoch(job, loader, optimizer, scaler=None):
    job.train()
    for chunks in loader:
        cached_step(job, chunks, optimizer, scaler)
