"""Semi-supervised left-atrium segmentation (LA MRI) with a mean teacher.

16 labelled + 64 unlabelled volumes. The teacher is an EMA of the student (parameters
AND BatchNorm buffers), kept in eval mode and only used to produce pseudo-targets.
"""
import argparse
import contextlib
import copy
import math

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from la_data import LAHeart, TwoStreamBatchSampler, RandomCrop3D
from networks.vnet import VNet
from losses import soft_dice


@contextlib.contextmanager
def evaluating(net):
    prev = net.training
    net.eval()
    try:
        yield net
    finally:
        net.train(prev)


@torch.no_grad()
def ema_update(teacher, student, alpha):
    for t, s in zip(teacher.parameters(), student.parameters()):
        t.mul_(alpha).add_(s.detach(), alpha=1 - alpha)
    for tb, sb in zip(teacher.buffers(), student.buffers()):
        tb.copy_(sb)


def sigmoid_rampup(step, length):
    if length == 0:
        return 1.0
    p = max(0.0, min(1.0, step / length))
    return float(math.exp(-5.0 * (1.0 - p) ** 2))


@torch.no_grad()
def val_dice(net, loader, device):
    scores = []
    for vol, lbl in loader:
        prob = torch.softmax(net(vol.to(device)), 1)[:, 1]
        pred = (prob > 0.5).float()
        lbl = lbl.to(device).float()
        scores.append((2 * (pred * lbl).sum() / (pred.sum() + lbl.sum() + 1e-5)).item())
    return sum(scores) / len(scores)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default="/data/LA2018")
    ap.add_argument("--iters", type=int, default=6000)
    ap.add_argument("--labeled", type=int, default=16)
    ap.add_argument("--ema", type=float, default=0.99)
    args = ap.parse_args()
    device = torch.device("cuda")

    ds = LAHeart(args.root, split="train", transform=RandomCrop3D((112, 112, 80)))
    sampler = TwoStreamBatchSampler(range(args.labeled), range(args.labeled, len(ds)), 4, 2)
    loader = DataLoader(ds, batch_sampler=sampler, num_workers=4)
    val_loader = DataLoader(LAHeart(args.root, split="val"), batch_size=1)

    student = VNet(n_channels=1, n_classes=2, normalization="batchnorm", has_dropout=True).to(device)
    teacher = copy.deepcopy(student)
    for p in teacher.parameters():
        p.requires_grad_(False)
    teacher.eval()

    opt = torch.optim.SGD(student.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    student.train()
    it = 0
    while it < args.iters:
        for vol, lbl in loader:
            vol, lbl = vol.to(device), lbl.to(device)
            noise = torch.clamp(torch.randn_like(vol) * 0.1, -0.2, 0.2)
            s_out = student(vol)
            with torch.no_grad():
                t_out = teacher(vol + noise)
            sup = F.cross_entropy(s_out[:2], lbl[:2]) + soft_dice(s_out[:2], lbl[:2])
            cons = F.mse_loss(torch.softmax(s_out, 1), torch.softmax(t_out, 1))
            loss = sup + 0.1 * sigmoid_rampup(it, 4000) * cons
            opt.zero_grad()
            loss.backward()
            opt.step()
            ema_update(teacher, student, min(1 - 1 / (it + 1), args.ema))
            it += 1

            if it % 500 == 0:
                with evaluating(student):
                    d_s = val_dice(student, val_loader, device)
                d_t = val_dice(teacher, val_loader, device)
                print(f"iter {it}: loss {loss.item():.4f} dice student {d_s:.4f} teacher {d_t:.4f}")
                torch.save({"student": student.state_dict(), "teacher": teacher.state_dict()},
                           f"mt_la_{it}.pth")
            if it >= args.iters:
                break


if __name__ == "__main__":
    main()
