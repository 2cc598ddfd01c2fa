"""Mode control: contexts that restore every submodule, and sticky policies."""

import torch
from torch import nn

import modeguard as mg

torch.manual_seed(0)
model = nn.Sequential(
    nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
    nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.5), nn.Linear(8, 2),
)

# 1. The classic freeze is undone by the next model.train() ...
model[1].eval()
model.train()
print("hand-made BN freeze after model.train():  BN training =", model[1].training)

# ... a sticky freeze is not.
mg.freeze_bn(model)
model.train()
print("mg.freeze_bn after model.train():         BN training =", model[1].training,
      "| weight.requires_grad =", model[1].weight.requires_grad)

# 2. Contexts restore every submodule's flag, not just the top one.
model[5].eval()  # a child deliberately in eval mode
before = {name: m.training for name, m in model.named_modules()}
with mg.inference(model):
    y = model(torch.randn(4, 3, 8, 8))
    print("inside inference(): training =", model.training,
          "| grad enabled =", torch.is_grad_enabled())
after = {name: m.training for name, m in model.named_modules()}
print("every flag restored after inference():", before == after)

# 3. Pins: Monte-Carlo dropout stays on inside evaluation.
model[5].train()
mg.pin_mode(model, "train", types=nn.Dropout)
with mg.inference(model):
    x = torch.randn(1, 3, 8, 8)
    samples = torch.stack([model(x) for _ in range(5)])
print("MC dropout under inference(): std over 5 samples =",
      round(samples.std(0).mean().item(), 4))
print("pinned:", mg.pinned(model))
