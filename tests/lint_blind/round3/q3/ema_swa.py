"""Weight averaging utilities: an EMA tracker used during training and an SWA phase at the end."""
import copy
import math

import torch
import torch.nn as nn
from torch.optim.swa_utils import AveragedModel, SWALR, update_bn


class EmaTracker(nn.Module):
    """Keeps an exponential moving average of a model (params and buffers).

    The averaged copy is only ever used for inference, so it lives in eval mode and
    never receives gradients; `train()` on the tracker does not wake it up.
    """

    def __init__(self, model, decay=0.9998, tau=2000):
        super().__init__()
        self.averaged = copy.deepcopy(model).eval().requires_grad_(False)
        self.decay_fn = lambda n: decay * (1 - math.exp(-n / tau))
        self.register_buffer("num_updates", torch.zeros((), dtype=torch.long))

    def train(self, mode=True):
        super().train(mode)
        self.averaged.eval()
        return self

    @torch.no_grad()
    def update(self, model):
        self.num_updates += 1
        d = self.decay_fn(self.num_updates.item())
        msd = model.state_dict()
        for name, v in self.averaged.state_dict().items():
            if v.dtype.is_floating_point:
                v.lerp_(msd[name].detach(), 1.0 - d)
            else:
                v.copy_(msd[name])

    def forward(self, *args, **kwargs):
        return self.averaged(*args, **kwargs)


@torch.no_grad()
def top1(net, loader, device):
    net.eval()
    hit = tot = 0
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        hit += (net(x).argmax(-1) == y).sum().item()
        tot += y.numel()
    return hit / tot


def fit(model, train_dl, val_dl, epochs, swa_start, lr=0.05, swa_lr=0.01, device="cuda"):
    model.to(device)
    ema = EmaTracker(model).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=5e-4)
    cosine = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=swa_start)
    swa_model = AveragedModel(model)
    swa_sched = SWALR(opt, swa_lr=swa_lr, anneal_epochs=3)
    crit = nn.CrossEntropyLoss()

    for epoch in range(epochs):
        model.train()
        for x, y in train_dl:
            x, y = x.to(device), y.to(device)
            loss = crit(model(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            ema.update(model)
        if epoch >= swa_start:
            swa_model.update_parameters(model)
            swa_sched.step()
        else:
            cosine.step()
        print(f"epoch {epoch}: model {top1(model, val_dl, device):.4f} "
              f"ema {top1(ema, val_dl, device):.4f}")

    # SWA: recompute BN statistics for the averaged weights, then score it once at the end
    update_bn(train_dl, swa_model, device=device)
    print(f"swa {top1(swa_model, val_dl, device):.4f}")
    return model, ema, swa_model
