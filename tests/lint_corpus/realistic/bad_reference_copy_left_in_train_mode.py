"""Preference fine-tuning with a KL penalty against a frozen copy of the starting policy.

The reference is a deep copy taken after policy.train(), so it is in training mode too; it is
frozen with requires_grad_(False) but never switched to eval, so its log-probabilities are
computed with dropout on.
"""
import copy

import torch
import torch.nn.functional as F

from prefmodels import PolicyLM
from prefdata import pair_batches


def sequence_logp(logits, ids):
    return F.log_softmax(logits[:, :-1], -1).gather(-1, ids[:, 1:, None]).squeeze(-1).sum(-1)


@torch.no_grad()
def reference_scores(ref_lm, chosen, rejected):
    good = sequence_logp(ref_lm(chosen), chosen)  # expect: MG102
    bad = sequence_logp(ref_lm(rejected), rejected)
    return good, bad


def train(steps=2000, beta=0.1):
    policy = PolicyLM.load("sft.pt")
    policy.train()
    ref_lm = copy.deepcopy(policy)
    ref_lm.requires_grad_(False)
    opt = torch.optim.AdamW(policy.parameters(), lr=5e-6)
    for step, (chosen, rejected) in zip(range(steps), pair_batches()):
        ref_good, ref_bad = reference_scores(ref_lm, chosen, rejected)
        margin = (sequence_logp(policy(chosen), chosen) - ref_good) - \
            (sequence_logp(policy(rejected), rejected) - ref_bad)
        loss = -F.logsigmoid(beta * margin).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
