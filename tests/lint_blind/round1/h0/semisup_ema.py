"""FixMatch-style semi-supervised training with an exponential moving average of the weights."""
import copy
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from ssl_lib.backbones import wide_resnet28_2
from ssl_lib.data import labeled_unlabeled_loaders, test_loader


class WeightAverager:
    """EMA of parameters *and* buffers; the averaged copy is only ever used for inference."""

    def __init__(self, net: nn.Module, decay: float = 0.999):
        self.shadow = copy.deepcopy(net).eval()
        self.shadow.requires_grad_(False)
        self.decay = decay
        self.updates = 0

    @torch.no_grad()
    def update(self, net: nn.Module):
        self.updates += 1
        d = min(self.decay, (1 + self.updates) / (10 + self.updates))
        live = net.state_dict()
        for name, avg in self.shadow.state_dict().items():
            src = live[name].detach()
            if avg.dtype.is_floating_point:
                avg.mul_(d).add_(src, alpha=1.0 - d)
            else:
                avg.copy_(src)


def cosine_lr(opt, step, total, base):
    lr = base * math.cos(7 * math.pi * step / (16 * total))
    for g in opt.param_groups:
        g["lr"] = lr


@torch.no_grad()
def accuracy(net, loader, device):
    hits = seen = 0
    for x, y in loader:
        hits += (net(x.to(device)).argmax(1).cpu() == y).sum().item()
        seen += y.numel()
    return hits / seen


def train(total_steps=2 ** 20, eval_every=1024, threshold=0.95, lambda_u=1.0, base_lr=0.03):
    device = torch.device("cuda")
    lab_iter, unl_iter = labeled_unlabeled_loaders(batch_size=64, mu=7)
    tloader = test_loader(batch_size=512)

    net = wide_resnet28_2(num_classes=10, drop_rate=0.0).to(device)
    ema = WeightAverager(net)
    opt = torch.optim.SGD(net.parameters(), lr=base_lr, momentum=0.9, nesterov=True,
                          weight_decay=5e-4)

    net.train()
    for step in range(total_steps):
        (x_l, y_l), ((u_weak, u_strong), _) = next(lab_iter), next(unl_iter)
        x = torch.cat([x_l, u_weak, u_strong]).to(device)
        logits = net(x)
        n = x_l.size(0)
        l_logits = logits[:n]
        w_logits, s_logits = logits[n:].chunk(2)

        sup = F.cross_entropy(l_logits, y_l.to(device))
        probs = torch.softmax(w_logits.detach(), dim=-1)
        conf, pseudo = probs.max(dim=-1)
        mask = conf.ge(threshold).float()
        unsup = (F.cross_entropy(s_logits, pseudo, reduction="none") * mask).mean()
        loss = sup + lambda_u * unsup

        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        cosine_lr(opt, step, total_steps, base_lr)
        ema.update(net)

        if (step + 1) % eval_every == 0:
            acc = accuracy(ema.shadow, tloader, device)
            print(f"step {step + 1}: loss {loss.item():.4f} mask {mask.mean().item():.2f} "
                  f"ema acc {acc:.4f}")
            torch.save({"net": net.state_dict(), "ema": ema.shadow.state_dict(), "step": step},
                       "fixmatch_last.pth")


if __name__ == "__main__":
    train()
