"""Knowledge distillation: ResNet-101 teacher -> MobileNetV3 student on ImageNet-100.

The teacher is loaded once, put in inference mode and never trained.
"""
import argparse
import time

import timm
import torch
import torch.nn.functional as F
from torch.cuda.amp import GradScaler, autocast

from imagenet100 import build_loaders


def kd_loss(student_logits, teacher_logits, targets, T=4.0, alpha=0.9):
    soft = F.kl_div(F.log_softmax(student_logits / T, dim=1), F.softmax(teacher_logits / T, dim=1),
                    reduction="batchmean") * (T * T)
    hard = F.cross_entropy(student_logits, targets)
    return alpha * soft + (1 - alpha) * hard


@torch.inference_mode()
def top1(model, loader):
    correct = total = 0
    for x, y in loader:
        x, y = x.cuda(non_blocking=True), y.cuda(non_blocking=True)
        with autocast():
            correct += (model(x).argmax(1) == y).sum().item()
        total += y.numel()
    return correct / total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/datasets/imagenet100")
    ap.add_argument("--teacher-ckpt", required=True)
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--bs", type=int, default=256)
    ap.add_argument("--lr", type=float, default=2e-3)
    args = ap.parse_args()

    train_loader, val_loader = build_loaders(args.data, args.bs)
    teacher = timm.create_model("resnet101", num_classes=100)
    teacher.load_state_dict(torch.load(args.teacher_ckpt, map_location="cpu"))
    teacher = teacher.cuda().eval()
    for p in teacher.parameters():
        p.requires_grad_(False)
    print(f"teacher top1: {top1(teacher, val_loader):.4f}")

    student = timm.create_model("mobilenetv3_large_100", num_classes=100, drop_rate=0.2).cuda()
    opt = torch.optim.AdamW(student.parameters(), lr=args.lr, weight_decay=0.05)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, args.epochs * len(train_loader))
    scaler = GradScaler()

    best = 0.0
    for epoch in range(args.epochs):
        student.train()
        tic = time.time()
        for x, y in train_loader:
            x, y = x.cuda(non_blocking=True), y.cuda(non_blocking=True)
            with autocast():
                with torch.no_grad():
                    t_logits = teacher(x)
                loss = kd_loss(student(x), t_logits, y)
            opt.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
            sched.step()

        student.eval()
        acc = top1(student, val_loader)
        print(f"epoch {epoch}: student top1 {acc:.4f} ({time.time() - tic:.0f}s)")
        if acc > best:
            best = acc
            torch.save(student.state_dict(), "student_best.pth")


if __name__ == "__main__":
    main()
