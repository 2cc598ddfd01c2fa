"""Semi-supervised polyp segmentation with a mean teacher.

The teacher is an exponential moving average of the student (parameters and buffers)
and only ever produces targets, so it stays in inference mode for the whole run.
"""
import argparse
import copy
import itertools

import torch
import torch.nn.functional as F

from polyp.data import labeled_loader, unlabeled_loader, val_loader
from polyp.nets import UNetPlusPlus
from polyp.aug import strong_photometric


@torch.no_grad()
def ema_update(teacher, student, decay):
    t_state = teacher.state_dict()
    for k, v in student.state_dict().items():
        if v.dtype.is_floating_point:
            t_state[k].mul_(decay).add_(v.detach(), alpha=1.0 - decay)
        else:
            t_state[k].copy_(v)


def dice_score(logits, mask, eps=1e-6):
    pred = (logits.sigmoid() > 0.5).float()
    inter = (pred * mask).sum(dim=(1, 2, 3))
    return ((2 * inter + eps) / (pred.sum(dim=(1, 2, 3)) + mask.sum(dim=(1, 2, 3)) + eps)).mean()


def mean_dice(net, loader, device):
    was_training = net.training
    net.eval()
    try:
        with torch.no_grad():
            vals = [dice_score(net(x.to(device)), m.to(device)).item() for x, m in loader]
    finally:
        net.train(was_training)
    return sum(vals) / len(vals)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--iters", type=int, default=30000)
    ap.add_argument("--ema", type=float, default=0.99)
    ap.add_argument("--cons-weight", type=float, default=1.0)
    ap.add_argument("--eval-every", type=int, default=1000)
    args = ap.parse_args()
    device = torch.device("cuda")

    student = UNetPlusPlus(in_ch=3, out_ch=1, deep_supervision=False).to(device)
    teacher = copy.deepcopy(student)
    teacher.eval()
    for p in teacher.parameters():
        p.requires_grad_(False)

    opt = torch.optim.Adam(student.parameters(), lr=1e-4)
    lab = itertools.cycle(labeled_loader(batch_size=8))
    unlab = itertools.cycle(unlabeled_loader(batch_size=8))
    vl = val_loader(batch_size=16)
    best = 0.0

    student.train()
    for it in range(1, args.iters + 1):
        x_l, m_l = (t.to(device) for t in next(lab))
        x_u = next(unlab).to(device)

        with torch.no_grad():
            target_u = teacher(x_u).sigmoid()
        sup = F.binary_cross_entropy_with_logits(student(x_l), m_l)
        cons = F.mse_loss(student(strong_photometric(x_u)).sigmoid(), target_u)
        ramp = min(1.0, it / 4000.0)
        loss = sup + args.cons_weight * ramp * cons

        opt.zero_grad()
        loss.backward()
        opt.step()
        ema_update(teacher, student, args.ema)

        if it % args.eval_every == 0:
            d_student = mean_dice(student, vl, device)
            d_teacher = mean_dice(teacher, vl, device)
            print(f"it {it}: sup {sup.item():.4f} cons {cons.item():.4f} "
                  f"dice student {d_student:.4f} teacher {d_teacher:.4f}")
            if d_teacher > best:
                best = d_teacher
                torch.save(teacher.state_dict(), "mt_teacher_best.pth")


if __name__ == "__main__":
    main()
