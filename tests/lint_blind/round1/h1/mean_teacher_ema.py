"""Semi-supervised training with an EMA teacher (mean-teacher / FixMatch-style pseudo labels)."""
import argparse
import copy
import itertools

import torch
import torch.nn as nn
import torch.nn.functional as F

from ssl_data import labeled_unlabeled_loaders, test_loader
from wideresnet import WideResNet


class ModelEMA:
    def __init__(self, net, decay=0.999):
        self.module = copy.deepcopy(net)
        self.module.eval()
        self.module.requires_grad_(False)
        self.decay = decay

    @torch.no_grad()
    def update(self, net):
        ema_sd = self.module.state_dict()
        for k, v in net.state_dict().items():
            if v.dtype.is_floating_point:
                ema_sd[k].mul_(self.decay).add_(v.detach(), alpha=1 - self.decay)
            else:
                ema_sd[k].copy_(v)


@torch.no_grad()
def top1(net, loader, device):
    correct = total = 0
    for x, y in loader:
        correct += (net(x.to(device)).argmax(1).cpu() == y).sum().item()
        total += y.numel()
    return 100.0 * correct / total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n_labeled", type=int, default=4000)
    ap.add_argument("--steps", type=int, default=2 ** 20)
    ap.add_argument("--mu", type=int, default=7)
    ap.add_argument("--threshold", type=float, default=0.95)
    ap.add_argument("--lambda_u", type=float, default=1.0)
    ap.add_argument("--eval_step", type=int, default=1024)
    args = ap.parse_args()

    device = torch.device("cuda")
    lab_dl, unl_dl = labeled_unlabeled_loaders(args.n_labeled, batch_size=64, mu=args.mu)
    tst_dl = test_loader(batch_size=512)

    student = WideResNet(depth=28, widen_factor=2, num_classes=10, drop_rate=0.0).to(device)
    ema = ModelEMA(student, decay=0.999)
    no_wd = [p for n, p in student.named_parameters() if "bn" in n or "bias" in n]
    wd = [p for n, p in student.named_parameters() if not ("bn" in n or "bias" in n)]
    opt = torch.optim.SGD([{"params": wd, "weight_decay": 5e-4}, {"params": no_wd, "weight_decay": 0.0}],
                          lr=0.03, momentum=0.9, nesterov=True)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: max(0.0, torch.cos(torch.tensor(7 * 3.14159 * s / (16 * args.steps))).item()))

    lab_it, unl_it = itertools.cycle(lab_dl), itertools.cycle(unl_dl)
    student.train()
    best = 0.0
    for step in range(1, args.steps + 1):
        x_l, y_l = next(lab_it)
        (u_weak, u_strong), _ = next(unl_it)
        x_l, y_l = x_l.to(device), y_l.to(device)
        u_weak, u_strong = u_weak.to(device), u_strong.to(device)

        with torch.no_grad():
            probs = ema.module(u_weak).softmax(dim=1)
        conf, pseudo = probs.max(dim=1)
        mask = conf.ge(args.threshold).float()

        logits = student(torch.cat([x_l, u_strong]))
        logits_l, logits_u = logits[: x_l.size(0)], logits[x_l.size(0):]
        loss_x = F.cross_entropy(logits_l, y_l)
        loss_u = (F.cross_entropy(logits_u, pseudo, reduction="none") * mask).mean()
        loss = loss_x + args.lambda_u * loss_u

        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        ema.update(student)

        if step % args.eval_step == 0:
            acc = top1(ema.module, tst_dl, device)
            best = max(best, acc)
            print(f"step {step}: Lx {loss_x.item():.3f} Lu {loss_u.item():.3f} "
                  f"mask {mask.mean().item():.2f} EMA acc {acc:.2f} (best {best:.2f})")
            torch.save({"student": student.state_dict(), "ema": ema.module.state_dict()}, "ckpt_last.pt")

    student.eval()
    print(f"final: student {top1(student, tst_dl, device):.2f}  EMA {top1(ema.module, tst_dl, device):.2f}")


if __name__ == "__main__":
    main()
