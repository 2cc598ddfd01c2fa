"""Distil gpt2-medium into a 6-layer GPT-2 on WikiText-103 (logit KD + LM loss)."""
import argparse
import math

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader
from transformers import GPT2Config, GPT2LMHeadModel, GPT2TokenizerFast

from lm_blocks import BlockDataset


def kd_loss(student_logits, teacher_logits, T):
    s = F.log_softmax(student_logits / T, dim=-1)
    t = F.softmax(teacher_logits / T, dim=-1)
    return F.kl_div(s.flatten(0, 1), t.flatten(0, 1), reduction="batchmean") * T * T


@torch.inference_mode()
def wikitext_ppl(lm, loader, device):
    lm.eval()
    nll, tokens = 0.0, 0
    for ids in loader:
        ids = ids.to(device)
        out = lm(ids, labels=ids)
        n = ids.numel() - ids.size(0)
        nll += out.loss.item() * n
        tokens += n
    return math.exp(nll / tokens)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--teacher", default="gpt2-medium")
    ap.add_argument("--n_layer", type=int, default=6)
    ap.add_argument("--steps", type=int, default=100_000)
    ap.add_argument("--T", type=float, default=2.0)
    ap.add_argument("--alpha", type=float, default=0.5)
    ap.add_argument("--bs", type=int, default=8)
    args = ap.parse_args()
    device = torch.device("cuda")

    tok = GPT2TokenizerFast.from_pretrained("gpt2")
    teacher = GPT2LMHeadModel.from_pretrained(args.teacher).to(device)
    teacher.eval()
    teacher.requires_grad_(False)

    cfg = GPT2Config.from_pretrained("gpt2", n_layer=args.n_layer)
    student = GPT2LMHeadModel(cfg).to(device)
    with torch.no_grad():
        student.transformer.wte.weight.copy_(teacher.transformer.wte.weight[:, : cfg.n_embd])

    train_dl = DataLoader(BlockDataset(tok, "wikitext-103-raw-v1", "train", 512), batch_size=args.bs,
                          shuffle=True, drop_last=True)
    val_dl = DataLoader(BlockDataset(tok, "wikitext-103-raw-v1", "validation", 512), batch_size=16)
    opt = torch.optim.AdamW(student.parameters(), lr=5e-4, weight_decay=0.1)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 5e-4, total_steps=args.steps, pct_start=0.02)

    student.train()
    step = 0
    while step < args.steps:
        for ids in train_dl:
            ids = ids.to(device)
            with torch.no_grad():
                t_logits = teacher(ids).logits
            out = student(ids, labels=ids)
            loss = args.alpha * kd_loss(out.logits[:, :-1], t_logits[:, :-1], args.T) + (1 - args.alpha) * out.loss
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(student.parameters(), 1.0)
            opt.step()
            sched.step()
            step += 1
            if step % 1000 == 0:
                print(f"step {step}: loss {loss.item():.4f} lm {out.loss.item():.4f}")
            if step >= args.steps:
                break

    print(f"student val ppl: {wikitext_ppl(student, val_dl, device):.2f}")
    print(f"teacher val ppl: {wikitext_ppl(teacher, val_dl, device):.2f}")
    student.save_pretrained("gpt2-distil-6l")


if __name__ == "__main__":
    main()
