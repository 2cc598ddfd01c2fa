"""Logit distillation from a large timm teacher into a compact student (CIFAR-100)."""
import argparse
import os

import timm
import torch
import torch.nn.functional as F
from torch.utils.tensorboard import SummaryWriter

from cifar import cifar100_loaders


def kd_loss(student_logits, teacher_logits, labels, T=4.0, alpha=0.9):
    soft = F.kl_div(F.log_softmax(student_logits / T, 1), F.softmax(teacher_logits / T, 1),
                    reduction="batchmean") * T * T
    hard = F.cross_entropy(student_logits, labels)
    return alpha * soft + (1 - alpha) * hard


def distill_epoch(student, teacher, loader, opt, sched, args, dev):
    student.train()
    for images, labels in loader:
        images, labels = images.to(dev, non_blocking=True), labels.to(dev, non_blocking=True)
        with torch.no_grad():
            t_logits = teacher(images)  # expect: MG102
        s_logits = student(images)
        loss = kd_loss(s_logits, t_logits, labels, args.T, args.alpha)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
    return loss.item()


@torch.inference_mode()
def top1(net, loader, dev):
    net.eval()
    right = total = 0
    for images, labels in loader:
        pred = net(images.to(dev)).argmax(1).cpu()
        right += (pred == labels).sum().item()
        total += labels.numel()
    return 100.0 * right / total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--teacher", default="resnet152")
    ap.add_argument("--teacher-ckpt", required=True)
    ap.add_argument("--student", default="resnet18")
    ap.add_argument("--epochs", type=int, default=240)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--T", type=float, default=4.0)
    ap.add_argument("--alpha", type=float, default=0.9)
    ap.add_argument("--logdir", default="runs/kd")
    args = ap.parse_args()

    dev = torch.device("cuda")
    train_loader, test_loader = cifar100_loaders(batch_size=128)
    teacher = timm.create_model(args.teacher, num_classes=100, drop_rate=0.2)
    teacher.load_state_dict(torch.load(args.teacher_ckpt, map_location="cpu"))
    teacher.requires_grad_(False)
    teacher.to(dev)
    student = timm.create_model(args.student, num_classes=100).to(dev)

    opt = torch.optim.SGD(student.parameters(), lr=args.lr, momentum=0.9, weight_decay=5e-4, nesterov=True)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, args.lr, total_steps=args.epochs * len(train_loader))
    writer = SummaryWriter(args.logdir)
    for epoch in range(args.epochs):
        loss = distill_epoch(student, teacher, train_loader, opt, sched, args, dev)
        acc = top1(student, test_loader, dev)
        writer.add_scalar("loss", loss, epoch)
        writer.add_scalar("test/top1", acc, epoch)
        print(f"epoch {epoch} loss {loss:.3f} student top1 {acc:.2f}")
    os.makedirs("checkpoints", exist_ok=True)
    torch.save(student.state_dict(), f"checkpoints/{args.student}_kd.pth")


if __name__ == "__main__":
    main()
