"""PPO on top of an SFT checkpoint with a learned reward model and a KL penalty to
a frozen copy of the starting policy."""
import argparse
import copy

import torch
import torch.nn.functional as F
from transformers import AutoTokenizer

from rlhf.modeling import PolicyWithValueHead, RewardModel
from rlhf.data import prompt_stream


def token_logprobs(logits, seqs):
    lp = F.log_softmax(logits[:, :-1].float(), dim=-1)
    return lp.gather(-1, seqs[:, 1:, None]).squeeze(-1)


@torch.no_grad()
def collect_rollouts(policy, frozen_ref, scorer, prompts, tok, args):
    policy.eval()  # expect: MG101
    seqs = policy.generate(**prompts, do_sample=True, top_p=1.0, temperature=1.0,
                           max_new_tokens=args.gen_len, pad_token_id=tok.pad_token_id)
    mask = seqs.ne(tok.pad_token_id).long()
    logits, values = policy(seqs, attention_mask=mask)
    ref_logits, _ = frozen_ref(seqs, attention_mask=mask)  # expect: MG102
    rewards_final = scorer(seqs, attention_mask=mask)

    logp = token_logprobs(logits, seqs)
    ref_logp = token_logprobs(ref_logits, seqs)
    kl = logp - ref_logp
    rewards = -args.kl_coef * kl
    last = mask[:, 1:].sum(1) - 1
    rewards[torch.arange(seqs.size(0)), last] += rewards_final
    return {"seqs": seqs, "mask": mask, "logp": logp, "values": values[:, :-1],
            "rewards": rewards, "kl": kl.sum(1).mean().item()}


def gae(rewards, values, gamma, lam):
    adv = torch.zeros_like(rewards)
    running = torch.zeros(rewards.size(0), device=rewards.device)
    for t in reversed(range(rewards.size(1))):
        nxt = values[:, t + 1] if t + 1 < values.size(1) else 0.0
        delta = rewards[:, t] + gamma * nxt - values[:, t]
        running = delta + gamma * lam * running
        adv[:, t] = running
    return adv, adv + values


def ppo_update(policy, roll, adv, returns, opt, args):
    logits, values = policy(roll["seqs"], attention_mask=roll["mask"])
    logp = token_logprobs(logits, roll["seqs"])
    ratio = torch.exp(logp - roll["logp"])
    pg = torch.max(-adv * ratio, -adv * ratio.clamp(1 - args.clip, 1 + args.clip)).mean()
    vf = F.mse_loss(values[:, :-1], returns)
    loss = pg + args.vf_coef * vf
    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(policy.parameters(), 1.0)
    opt.step()
    return pg.item(), vf.item()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sft", required=True)
    ap.add_argument("--rm", required=True)
    ap.add_argument("--iters", type=int, default=500)
    ap.add_argument("--ppo-epochs", type=int, default=4)
    ap.add_argument("--gen-len", type=int, default=64)
    ap.add_argument("--kl-coef", type=float, default=0.05)
    ap.add_argument("--clip", type=float, default=0.2)
    ap.add_argument("--vf-coef", type=float, default=0.1)
    args = ap.parse_args()

    tok = AutoTokenizer.from_pretrained(args.sft, padding_side="left")
    policy = PolicyWithValueHead.from_pretrained(args.sft).cuda()
    policy.train()
    frozen_ref = copy.deepcopy(policy)
    frozen_ref.requires_grad_(False)
    scorer = RewardModel.from_pretrained(args.rm).cuda()
    scorer.eval()

    opt = torch.optim.AdamW(policy.parameters(), lr=1.4e-5)
    stream = prompt_stream(tok, batch_size=32)
    for it in range(args.iters):
        prompts = {k: v.cuda() for k, v in next(stream).items()}
        roll = collect_rollouts(policy, frozen_ref, scorer, prompts, tok, args)
        adv, returns = gae(roll["rewards"], roll["values"], gamma=1.0, lam=0.95)
        adv = (adv - adv.mean()) / (adv.std() + 1e-8)
        for _ in range(args.ppo_epochs):
            pg, vf = ppo_update(policy, roll, adv, returns, opt, args)
        if it % 10 == 0:
            print(f"it {it} pg {pg:.4f} vf {vf:.4f} kl {roll['kl']:.4f}")


if __name__ == "__main__":
    main()
