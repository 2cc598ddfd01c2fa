#!/usr/bin/env python
"""Word-level knowledge distillation from a big Transformer teacher into a small student.

    python distill.py --teacher ckpt/big.pt --spm spm.model --train-prefix data/train
"""
import argparse

import sentencepiece as spm
import torch
import torch.nn.functional as F

from evaluate import corpus_bleu
from models import build_student, build_teacher
from mtdata import bitext_loader


def kd_loss(student_logits, teacher_logits, gold, pad_id, temperature=1.0, alpha=0.5):
    mask = gold.ne(pad_id)
    s = F.log_softmax(student_logits / temperature, dim=-1)
    t = F.softmax(teacher_logits / temperature, dim=-1)
    word_kd = -(t * s).sum(-1)[mask].mean() * temperature ** 2
    nll = F.cross_entropy(student_logits[mask], gold[mask], label_smoothing=0.1)
    return alpha * word_kd + (1 - alpha) * nll


def distill_epoch(student, teacher, loader, opt, sched, args, device):
    student.train()
    for step, (src, tgt, _) in enumerate(loader):
        src, tgt = src.to(device), tgt.to(device)
        tgt_in, gold = tgt[:, :-1], tgt[:, 1:]
        with torch.no_grad():
            t_logits = teacher(src, tgt_in)  # expect: MG102
        s_logits = student(src, tgt_in)
        loss = kd_loss(s_logits, t_logits, gold, student.pad_id, args.temperature, args.alpha)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(student.parameters(), 1.0)
        opt.step()
        sched.step()
        if step % 200 == 0:
            print(f"step {step} kd loss {loss.item():.4f}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--teacher", required=True)
    ap.add_argument("--spm", required=True)
    ap.add_argument("--train-prefix", required=True)
    ap.add_argument("--dev-prefix", required=True)
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--temperature", type=float, default=2.0)
    ap.add_argument("--alpha", type=float, default=0.7)
    args = ap.parse_args()

    device = torch.device("cuda")
    sp = spm.SentencePieceProcessor(model_file=args.spm)
    V = sp.get_piece_size()

    teacher = build_teacher(V, args.teacher).to(device)
    teacher.requires_grad_(False)
    student = build_student(V).to(device)

    train_dl = bitext_loader(args.train_prefix, sp, max_tokens=8000, shuffle=True)
    dev_dl = bitext_loader(args.dev_prefix, sp, max_tokens=4000, shuffle=False)
    opt = torch.optim.Adam(student.parameters(), lr=7e-4, betas=(0.9, 0.98), eps=1e-9)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) ** -0.5, (s + 1) * 4000 ** -1.5) * 4000 ** 0.5)

    for epoch in range(args.epochs):
        distill_epoch(student, teacher, train_dl, opt, sched, args, device)
        bleu = corpus_bleu(student, dev_dl, sp, device)
        print(f"epoch {epoch}: dev BLEU {bleu:.2f}")
        torch.save({"model": student.state_dict(), "bleu": bleu}, f"ckpt/student_ep{epoch}.pt")


if __name__ == "__main__":
    main()
