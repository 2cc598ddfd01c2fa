"""Logit distillation (Hinton et al.) from a large timm teacher into a small student."""
import argparse
import time

import timm
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.cuda.amp import GradScaler, autocast

from data.subset import build_loaders


def kd_loss(student_logits, teacher_logits, labels, T=4.0, alpha=0.9):
    soft = F.kl_div(
        F.log_softmax(student_logits / T, dim=1),
        F.softmax(teacher_logits / T, dim=1),
        reduction="batchmean",
    ) * (T * T)
    hard = F.cross_entropy(student_logits, labels)
    return alpha * soft + (1.0 - alpha) * hard


class Distiller:
    def __init__(self, teacher, student, optimizer, scheduler, device, temperature, alpha):
        self.teacher = teacher
        self.student = student
        self.opt = optimizer
        self.sched = scheduler
        self.device = device
        self.T = temperature
        self.alpha = alpha
        self.scaler = GradScaler()

    def _targets(self, images):
        with torch.no_grad(), autocast():
            return self.teacher(images).float()  # expect: MG102

    def step(self, images, labels):
        images = images.to(self.device, non_blocking=True)
        labels = labels.to(self.device, non_blocking=True)
        t_logits = self._targets(images)
        with autocast():
            s_logits = self.student(images)
            loss = kd_loss(s_logits.float(), t_logits, labels, self.T, self.alpha)
        self.opt.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.step(self.opt)
        self.scaler.update()
        return loss.item()

    def fit_epoch(self, loader, epoch):
        self.student.train()
        t0, seen, acc_loss = time.time(), 0, 0.0
        for it, (x, y) in enumerate(loader):
            acc_loss += self.step(x, y) * x.size(0)
            seen += x.size(0)
            if it % 100 == 0:
                print(f"ep {epoch} it {it} kd-loss {acc_loss / seen:.4f} ({time.time() - t0:.0f}s)")
        self.sched.step()

    @torch.no_grad()
    def student_top1(self, loader):
        self.student.eval()
        hit = n = 0
        for x, y in loader:
            x, y = x.to(self.device), y.to(self.device)
            hit += (self.student(x).argmax(1) == y).sum().item()
            n += y.numel()
        return 100.0 * hit / n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--teacher", default="convnext_base.fb_in22k_ft_in1k")
    ap.add_argument("--teacher-ckpt", default=None, help="optional fine-tuned teacher weights")
    ap.add_argument("--student", default="resnet18")
    ap.add_argument("--num-classes", type=int, default=100)
    ap.add_argument("--epochs", type=int, default=90)
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--T", type=float, default=4.0)
    ap.add_argument("--alpha", type=float, default=0.9)
    args = ap.parse_args()

    device = torch.device("cuda")
    teacher = timm.create_model(args.teacher, pretrained=True, num_classes=args.num_classes)
    if args.teacher_ckpt:
        teacher.load_state_dict(torch.load(args.teacher_ckpt, map_location="cpu"))
    teacher = teacher.to(device)

    student = timm.create_model(args.student, pretrained=False, num_classes=args.num_classes).to(device)
    opt = torch.optim.SGD(student.parameters(), lr=args.lr, momentum=0.9, weight_decay=5e-4, nesterov=True)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs)
    train_loader, val_loader = build_loaders(batch_size=256)

    distiller = Distiller(teacher, student, opt, sched, device, args.T, args.alpha)
    best = 0.0
    for epoch in range(args.epochs):
        distiller.fit_epoch(train_loader, epoch)
        top1 = distiller.student_top1(val_loader)
        if top1 > best:
            best = top1
            torch.save(student.state_dict(), "student_best.pth")
        print(f"epoch {epoch}: student top-1 {top1:.2f} (best {best:.2f})")


if __name__ == "__main__":
    main()
