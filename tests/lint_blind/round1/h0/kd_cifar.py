"""Knowledge distillation: a WRN-40-2 teacher into a compact student on CIFAR-100."""
import argparse
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

from zoo import build_model
from zoo.data import cifar100_loaders


class CompactStudent(nn.Module):
    def __init__(self, num_classes=100, width=32):
        super().__init__()
        chans = [3, width, width * 2, width * 4]
        self.stages = nn.ModuleList()
        for cin, cout in zip(chans[:-1], chans[1:]):
            self.stages.append(nn.Sequential(
                nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
                nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
            ))
        self.fc = nn.Linear(chans[-1], num_classes)

    def forward(self, x):
        for i, stage in enumerate(self.stages):
            x = stage(x)
            if i < len(self.stages) - 1:
                x = F.max_pool2d(x, 2)
                x = F.dropout2d(x, 0.1, training=True)  # expect: MG201
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def kd_loss(s_logits, t_logits, target, T, alpha):
    soft = F.kl_div(F.log_softmax(s_logits / T, dim=1), F.softmax(t_logits / T, dim=1),
                    reduction="batchmean") * (T * T)
    return alpha * soft + (1.0 - alpha) * F.cross_entropy(s_logits, target)


def distill_epoch(student, teacher, loader, opt, args, device):
    student.train()
    meter = 0.0
    for images, target in loader:
        images, target = images.to(device), target.to(device)
        with torch.no_grad():
            t_logits = teacher(images)  # expect: MG102
        s_logits = student(images)
        loss = kd_loss(s_logits, t_logits, target, args.T, args.alpha)
        opt.zero_grad()
        loss.backward()
        opt.step()
        meter += loss.item()
    return meter / len(loader)


def top1(net, loader, device):
    net.eval()
    correct = total = 0
    with torch.no_grad():
        for images, target in loader:
            pred = net(images.to(device)).argmax(1).cpu()
            correct += (pred == target).sum().item()
            total += target.numel()
    return 100.0 * correct / total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--teacher-arch", default="wrn_40_2")
    ap.add_argument("--teacher-ckpt", required=True)
    ap.add_argument("--epochs", type=int, default=240)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--T", type=float, default=4.0)
    ap.add_argument("--alpha", type=float, default=0.9)
    ap.add_argument("--out", default="save/student.pth")
    args = ap.parse_args()
    device = torch.device("cuda")

    train_loader, val_loader = cifar100_loaders(batch_size=64, num_workers=8)

    teacher = build_model(args.teacher_arch, num_classes=100)
    teacher.load_state_dict(torch.load(args.teacher_ckpt, map_location="cpu")["model"])
    teacher.to(device)

    student = CompactStudent().to(device)
    opt = torch.optim.SGD(student.parameters(), lr=args.lr, momentum=0.9, weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, [150, 180, 210], 0.1)

    best = 0.0
    for epoch in range(args.epochs):
        loss = distill_epoch(student, teacher, train_loader, opt, args, device)
        sched.step()
        acc = top1(student, val_loader, device)
        print(f"[{epoch:03d}] kd loss {loss:.4f}  student top-1 {acc:.2f}")
        if acc > best:
            best = acc
            os.makedirs(os.path.dirname(args.out), exist_ok=True)
            torch.save(student.state_dict(), args.out)
    print("best", best)


if __name__ == "__main__":
    main()
