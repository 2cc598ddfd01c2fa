"""Mean Teacher semi-supervised training on CIFAR-10 with 4000 labels.

As in the original method both networks see noise during training (input
augmentation, dropout); the teacher is an exponential moving average of the
student and is usually the better model to report.
"""
import argparse
import copy
import itertools

import torch
import torch.nn.functional as F

from semi.data import labeled_unlabeled_loaders, test_loader
from semi.nets import cifar_shakeshake26


def sigmoid_rampup(step, length):
    if length == 0:
        return 1.0
    t = min(step, length) / length
    return float(torch.exp(torch.tensor(-5.0 * (1.0 - t) ** 2)))


@torch.no_grad()
def ema_update(student, teacher, alpha, step):
    alpha = min(1.0 - 1.0 / (step + 1), alpha)
    for t_param, s_param in zip(teacher.parameters(), student.parameters()):
        t_param.mul_(alpha).add_(s_param, alpha=1.0 - alpha)


def train_epoch(student, teacher, labeled, unlabeled, optimizer, epoch, step, args):
    student.train()
    teacher.train()
    for (x_l, y_l), (x_u1, x_u2) in zip(labeled, itertools.islice(unlabeled, len(labeled))):
        x_l, y_l = x_l.cuda(non_blocking=True), y_l.cuda(non_blocking=True)
        x_u1, x_u2 = x_u1.cuda(non_blocking=True), x_u2.cuda(non_blocking=True)

        logits_l = student(x_l)
        logits_u = student(x_u1)
        with torch.no_grad():
            target_u = F.softmax(teacher(x_u2), dim=1)

        sup = F.cross_entropy(logits_l, y_l)
        cons = F.mse_loss(F.softmax(logits_u, dim=1), target_u)
        weight = args.cons_weight * sigmoid_rampup(step, args.rampup_steps)
        loss = sup + weight * cons

        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        step += 1
        ema_update(student, teacher, args.ema_decay, step)
        if step % 200 == 0:
            print(f"ep {epoch} step {step} sup {sup.item():.3f} cons {cons.item():.4f} w {weight:.2f}")
    return step


def evaluate(student, teacher, loader):
    student.eval()
    s_hits = t_hits = total = 0
    with torch.no_grad():
        for x, y in loader:
            x, y = x.cuda(non_blocking=True), y.cuda(non_blocking=True)
            s_hits += (student(x).argmax(1) == y).sum().item()
            t_hits += (teacher(x).argmax(1) == y).sum().item()  # expect: MG102
            total += y.numel()
    return 100.0 * s_hits / total, 100.0 * t_hits / total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--labels", type=int, default=4000)
    ap.add_argument("--epochs", type=int, default=180)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--ema-decay", type=float, default=0.97)
    ap.add_argument("--cons-weight", type=float, default=100.0)
    ap.add_argument("--rampup-steps", type=int, default=5 * 400)
    args = ap.parse_args()

    student = cifar_shakeshake26(num_classes=10).cuda()
    teacher = copy.deepcopy(student)
    for p in teacher.parameters():
        p.requires_grad_(False)

    labeled, unlabeled = labeled_unlabeled_loaders(n_labels=args.labels, batch_size=(62, 194))
    val = test_loader(batch_size=500)
    optimizer = torch.optim.SGD(student.parameters(), lr=args.lr, momentum=0.9,
                                weight_decay=2e-4, nesterov=True)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)

    step, best = 0, 0.0
    for epoch in range(args.epochs):
        step = train_epoch(student, teacher, labeled, unlabeled, optimizer, epoch, step, args)
        sched.step()
        s_acc, t_acc = evaluate(student, teacher, val)
        best = max(best, t_acc)
        print(f"epoch {epoch}: student {s_acc:.2f}  teacher {t_acc:.2f}  (best teacher {best:.2f})")
        torch.save({"student": student.state_dict(), "teacher": teacher.state_dict()}, "mt_last.pth")


if __name__ == "__main__":
    main()
