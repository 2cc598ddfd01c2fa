"""Direct Preference Optimisation against a frozen reference policy.

Every `eval_every` optimizer steps we measure preference accuracy (implicit reward of
the chosen answer > rejected) on held-out pairs.
"""
import argparse
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from transformers import AutoModelForCausalLM, AutoTokenizer

from prefdata import preference_loaders


@contextmanager
def inference_mode_for(*nets):
    states = [n.training for n in nets]
    for n in nets:
        n.eval()
    try:
        with torch.no_grad():
            yield
    finally:
        for n, s in zip(nets, states):
            n.train(s)


def sequence_logp(net, ids, attn, loss_mask):
    logits = net(input_ids=ids, attention_mask=attn).logits[:, :-1]
    lp = torch.gather(logits.log_softmax(-1), 2, ids[:, 1:, None]).squeeze(-1)
    return (lp * loss_mask[:, 1:]).sum(-1)


def dpo_terms(policy, reference, batch, beta):
    ids = torch.cat([batch["chosen_ids"], batch["rejected_ids"]])
    attn = torch.cat([batch["chosen_attn"], batch["rejected_attn"]])
    mask = torch.cat([batch["chosen_mask"], batch["rejected_mask"]])
    pi = sequence_logp(policy, ids, attn, mask)
    with torch.no_grad():
        ref = sequence_logp(reference, ids, attn, mask)
    n = batch["chosen_ids"].size(0)
    margin = beta * ((pi[:n] - ref[:n]) - (pi[n:] - ref[n:]))
    return -F.logsigmoid(margin).mean(), (margin > 0).float().mean()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sft", required=True)
    ap.add_argument("--beta", type=float, default=0.1)
    ap.add_argument("--lr", type=float, default=5e-7)
    ap.add_argument("--accum", type=int, default=8)
    ap.add_argument("--eval-every", type=int, default=100)
    args = ap.parse_args()

    tok = AutoTokenizer.from_pretrained(args.sft)
    policy = AutoModelForCausalLM.from_pretrained(args.sft, torch_dtype=torch.bfloat16).cuda()
    reference = AutoModelForCausalLM.from_pretrained(args.sft, torch_dtype=torch.bfloat16).cuda()
    reference.eval()
    reference.requires_grad_(False)

    train_dl, eval_dl = preference_loaders(tok, micro_batch=2)
    opt = torch.optim.RMSprop(policy.parameters(), lr=args.lr)
    policy.train()
    updates = 0
    for micro, batch in enumerate(train_dl):
        batch = {k: v.cuda() for k, v in batch.items()}
        loss, _ = dpo_terms(policy, reference, batch, args.beta)
        (loss / args.accum).backward()
        if (micro + 1) % args.accum:
            continue
        torch.nn.utils.clip_grad_norm_(policy.parameters(), 10.0)
        opt.step()
        opt.zero_grad()
        updates += 1

        if updates % args.eval_every == 0:
            with inference_mode_for(policy, reference):
                accs = []
                for eb in eval_dl:
                    eb = {k: v.cuda() for k, v in eb.items()}
                    _, acc = dpo_terms(policy, reference, eb, args.beta)
                    accs.append(acc.item())
            print(f"update {updates}: loss {loss.item():.4f} pref-acc {sum(accs) / len(accs):.3f}")

    policy.save_pretrained("ckpt/dpo")


if __name__ == "__main__":
    main()
