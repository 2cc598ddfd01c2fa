"""Decoding helpers of a translation toolkit: search() dispatches to greedy or beam search,
each running the model under no_grad; the model comes from the prediction code in another
module, which puts it in eval mode first."""
import torch


def greedy(model, src, max_len):
    ys = src[:, :1]
    for _ in range(max_len):
        with torch.no_grad():
            logits = model(src, ys)
        ys = torch.cat([ys, logits[:, -1:].argmax(-1)], dim=1)
    return ys


def beam_search(model, src, max_len, size):
    with torch.no_grad():
        return model(src, src[:, :1]).topk(size, dim=-1).indices


def search(model, src, max_len, beam_size=1):
    if beam_size < 2:
        return greedy(model, src, max_len)
    return beam_search(model, src, max_len, beam_size)
