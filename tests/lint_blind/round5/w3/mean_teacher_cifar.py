"""Mean Teacher on CIFAR-10 with 4000 labels (a compact re-implementation).

As in the original paper code, the teacher is run in training mode: its dropout and
BatchNorm noise is part of the consistency target, and its BN buffers follow the data
(only the weights are an exponential moving average of the student).
"""
import argparse
import itertools

import torch
import torch.nn as nn
import torch.nn.functional as F

from ssl_data import get_cifar10_ssl_loaders
from nets import cifar_shakeshake26


def sigmoid_rampup(current, length):
    if length == 0:
        return 1.0
    phase = 1.0 - min(current, length) / length
    return float(torch.exp(torch.tensor(-5.0 * phase * phase)))


@torch.no_grad()
def ema_update(teacher, student, alpha, global_step):
    alpha = min(1.0 - 1.0 / (global_step + 1), alpha)
    for t_param, s_param in zip(teacher.parameters(), student.parameters()):
        t_param.mul_(alpha).add_(s_param, alpha=1.0 - alpha)


def accuracy(net, loader, device):
    net.eval()
    correct = total = 0
    with torch.no_grad():
        for x, y in loader:
            correct += (net(x.to(device)).argmax(1).cpu() == y).sum().item()
            total += y.numel()
    return correct / total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--labels", type=int, default=4000)
    ap.add_argument("--epochs", type=int, default=180)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--ema-decay", type=float, default=0.97)
    ap.add_argument("--consistency", type=float, default=100.0)
    ap.add_argument("--rampup", type=int, default=5)
    args = ap.parse_args()
    device = "cuda"

    labeled, unlabeled, test = get_cifar10_ssl_loaders(args.labels, two_views=True)
    student = cifar_shakeshake26(num_classes=10).to(device)
    teacher = cifar_shakeshake26(num_classes=10).to(device)
    teacher.load_state_dict(student.state_dict())
    for p in teacher.parameters():
        p.requires_grad_(False)

    opt = torch.optim.SGD(student.parameters(), lr=args.lr, momentum=0.9, nesterov=True, weight_decay=2e-4)
    step = 0
    for epoch in range(args.epochs):
        student.train()
        teacher.train()  # deliberate, see module docstring
        for (x_l, y_l), (u_student, u_teacher) in zip(itertools.cycle(labeled), unlabeled):
            x_l, y_l = x_l.to(device), y_l.to(device)
            u_student, u_teacher = u_student.to(device), u_teacher.to(device)

            logits = student(torch.cat([x_l, u_student]))
            logits_l, logits_u = logits[: x_l.size(0)], logits[x_l.size(0):]
            with torch.no_grad():
                target_u = F.softmax(teacher(u_teacher), dim=1)

            weight = args.consistency * sigmoid_rampup(epoch, args.rampup)
            loss = F.cross_entropy(logits_l, y_l) + weight * F.mse_loss(
                F.softmax(logits_u, dim=1), target_u, reduction="sum") / logits_u.numel()
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            ema_update(teacher, student, args.ema_decay, step)

        s_acc = accuracy(student, test, device)
        t_acc = accuracy(teacher, test, device)
        print(f"epoch {epoch:3d}  student {s_acc:.4f}  teacher {t_acc:.4f}")

    torch.save({"student": student.state_dict(), "teacher": teacher.state_dict()}, "mean_teacher.pt")


if __name__ == "__main__":
    main()
