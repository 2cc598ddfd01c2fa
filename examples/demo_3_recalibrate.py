"""Exact BatchNorm recalibration after weight averaging, against update_bn."""

import copy

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel, update_bn

import modeguard as mg

torch.manual_seed(0)
model = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
                      nn.Conv2d(16, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
                      nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 10))
swa = AveragedModel(model)
for _ in range(3):  # stand-in for training: perturb the weights, average them
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    swa.update_parameters(model)

# batches ordered by "class": each has its own offset, the last one is short
loader = [torch.randn(32 if i < 11 else 7, 3, 16, 16) + 2.0 * (i % 4) for i in range(12)]

# float64 truth: statistics of the first BatchNorm's inputs over all batches
conv = swa.module[0].double()
with torch.no_grad():
    x = torch.cat([conv(b.double()) for b in loader]).transpose(0, 1).reshape(16, -1)
swa.module[0].float()
true_var = x.var(1)

ours, theirs = copy.deepcopy(swa), copy.deepcopy(swa)
report = mg.recalibrate_bn(ours, loader, progress=False)
update_bn(loader, theirs)
err = lambda m: ((m.module[1].running_var.double() - true_var).abs() / true_var).max().item()  # noqa: E731
print(report)
print(f"largest relative error of running_var, first BatchNorm: "
      f"modeguard {err(ours):.1e}  vs  update_bn {err(theirs):.1e}")
