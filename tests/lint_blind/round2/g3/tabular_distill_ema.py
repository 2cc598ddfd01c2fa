"""Distil a large FT-Transformer ensemble teacher into a compact MLP student for
low-latency churn scoring.  An EMA copy of the student is what gets exported.
"""
import argparse
import copy
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.metrics import log_loss, roc_auc_score

from churnlib.data import load_splits          # returns numpy arrays
from churnlib.models import load_teacher       # FT-Transformer ensemble (dropout inside)


class Student(nn.Module):
    def __init__(self, d_in, width=192, depth=3, p=0.15):
        super().__init__()
        blocks = []
        for i in range(depth):
            blocks += [nn.Linear(d_in if i == 0 else width, width), nn.BatchNorm1d(width), nn.GELU(), nn.Dropout(p)]
        self.body = nn.Sequential(*blocks)
        self.head = nn.Linear(width, 1)

    def forward(self, x):
        return self.head(self.body(x)).squeeze(-1)


class EMA:
    def __init__(self, model: nn.Module, decay=0.999):
        self.shadow = copy.deepcopy(model).eval()
        self.shadow.requires_grad_(False)
        self.decay = decay
        self.updates = 0

    @torch.no_grad()
    def update(self, model):
        self.updates += 1
        d = min(self.decay, (1 + self.updates) / (10 + self.updates))
        for s, m in zip(self.shadow.state_dict().values(), model.state_dict().values()):
            if s.dtype.is_floating_point:
                s.mul_(d).add_(m.detach(), alpha=1 - d)
            else:
                s.copy_(m)


@torch.no_grad()
def score(net, X, y, bs=8192):
    net.eval()
    p = torch.cat([torch.sigmoid(net(X[i:i + bs])) for i in range(0, len(X), bs)]).cpu().numpy()
    return roc_auc_score(y, p), log_loss(y, p)


def kd_loss(student_logit, teacher_logit, target, T=2.0, alpha=0.7):
    soft_t = torch.sigmoid(teacher_logit / T)
    kd = F.binary_cross_entropy_with_logits(student_logit / T, soft_t) * T * T
    hard = F.binary_cross_entropy_with_logits(student_logit, target)
    return alpha * kd + (1 - alpha) * hard


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--teacher", default="artifacts/ftt_ensemble.pt")
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--bs", type=int, default=1024)
    ap.add_argument("--log-every", type=int, default=100)
    args = ap.parse_args()

    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    (Xtr, ytr), (Xva, yva), (Xte, yte) = load_splits()
    T = lambda a: torch.as_tensor(a, dtype=torch.float32, device=dev)
    Xtr_t, ytr_t, Xva_t, Xte_t = T(Xtr), T(ytr), T(Xva), T(Xte)

    teacher = load_teacher(args.teacher).to(dev)
    teacher.eval()
    student = Student(Xtr.shape[1]).to(dev)
    ema = EMA(student)
    opt = torch.optim.AdamW(student.parameters(), lr=2e-3, weight_decay=1e-4)
    steps_per_epoch = math.ceil(len(Xtr) / args.bs)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, args.epochs * steps_per_epoch)

    step = 0
    for epoch in range(args.epochs):
        student.train()
        perm = torch.randperm(len(Xtr_t), device=dev)
        for i in range(0, len(perm), args.bs):
            idx = perm[i:i + args.bs]
            if len(idx) < 2:
                continue
            xb = Xtr_t[idx]
            with torch.no_grad():
                t_logit = teacher(xb)
            loss = kd_loss(student(xb), t_logit, ytr_t[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            ema.update(student)
            step += 1
            if step % args.log_every == 0:
                auc, ll = score(ema.shadow, Xva_t, yva)
                print(f"step {step}: kd loss {loss.item():.4f} | EMA val auc {auc:.4f} logloss {ll:.4f}")
        s_auc, _ = score(student, Xva_t, yva)
        print(f"epoch {epoch}: student val auc {s_auc:.4f}")

    auc, ll = score(ema.shadow, Xte_t, yte)
    print(f"EMA student test auc {auc:.4f} logloss {ll:.4f}")
    torch.save(ema.shadow.state_dict(), "student_ema.pt")


if __name__ == "__main__":
    main()
