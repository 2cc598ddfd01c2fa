"""Knowledge distillation for 3D CT classification (COVID / non-COVID).

A MedicalNet ResNet-50 teacher (fine-tuned beforehand) supervises a small 3D CNN student
that has to run on a CPU-only scanner workstation.
"""
import argparse
import logging

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader

from medicalnet.models.resnet import generate_model
from ctdata import CTVolumeDataset, default_augment

log = logging.getLogger("kd3d")


class TinyCT3D(nn.Module):
    def __init__(self, n_classes=2, width=16):
        super().__init__()
        chans = [1, width, width * 2, width * 4, width * 8]
        layers = []
        for cin, cout in zip(chans[:-1], chans[1:]):
            layers += [
                nn.Conv3d(cin, cout, 3, padding=1, bias=False),
                nn.BatchNorm3d(cout),
                nn.ReLU(inplace=True),
                nn.MaxPool3d(2),
            ]
        self.body = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool3d(1)
        self.drop = nn.Dropout(0.3)
        self.fc = nn.Linear(chans[-1], n_classes)

    def forward(self, v):
        return self.fc(self.drop(self.pool(self.body(v)).flatten(1)))


def kd_loss(s_logits, t_logits, target, T=4.0, alpha=0.7):
    soft = F.kl_div(F.log_softmax(s_logits / T, 1), F.softmax(t_logits / T, 1),
                    reduction="batchmean") * T * T
    hard = F.cross_entropy(s_logits, target)
    return alpha * soft + (1 - alpha) * hard


@torch.no_grad()
def student_accuracy(student, loader, device):
    student.eval()
    ok = n = 0
    for vol, y in loader:
        pred = student(vol.to(device)).argmax(1).cpu()
        ok += (pred == y).sum().item()
        n += y.numel()
    return ok / max(n, 1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train-csv", required=True)
    ap.add_argument("--val-csv", required=True)
    ap.add_argument("--teacher-ckpt", required=True)
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--bs", type=int, default=8)
    ap.add_argument("--T", type=float, default=4.0)
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO)
    device = torch.device("cuda")

    tr = DataLoader(CTVolumeDataset(args.train_csv, transform=default_augment()),
                    batch_size=args.bs, shuffle=True, num_workers=6, drop_last=True)
    va = DataLoader(CTVolumeDataset(args.val_csv), batch_size=args.bs, num_workers=6)

    teacher = generate_model(model_depth=50, n_input_channels=1, n_classes=2)
    sd = torch.load(args.teacher_ckpt, map_location="cpu")["state_dict"]
    teacher.load_state_dict({k.replace("module.", ""): v for k, v in sd.items()})
    teacher.to(device)

    student = TinyCT3D().to(device)
    opt = torch.optim.SGD(student.parameters(), lr=0.01, momentum=0.9, nesterov=True, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.05, total_steps=args.epochs * len(tr))

    best = 0.0
    for ep in range(args.epochs):
        student.train()
        for vol, y in tr:
            vol, y = vol.to(device, non_blocking=True), y.to(device)
            with torch.no_grad():
                t_logits = teacher(vol)  # expect: MG102
            s_logits = student(vol)
            loss = kd_loss(s_logits, t_logits, y, T=args.T)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
        acc = student_accuracy(student, va, device)
        log.info("epoch %d  kd loss %.4f  val acc %.4f", ep, loss.item(), acc)
        if acc > best:
            best = acc
            torch.save(student.state_dict(), "student_best.pt")


if __name__ == "__main__":
    main()
