"""Correct patterns: train() each step, restore idioms, inference(), freeze_bn, pin_mode."""
import sys

import torch
from torch import nn

import modeguard as mg
from common import batches, make_model

model = make_model()
opt = torch.optim.SGD([p for p in model.parameters()], lr=0.1)


def validate_restoring():
    was = model.training
    model.eval()
    try:
        with torch.no_grad():
            for x, _ in batches(1):
                model(x)
    finally:
        model.train(was)


@mg.inference(model)
def validate_mg():
    for x, _ in batches(1):
        model(x)


for step, (x, y) in enumerate(batches(4)):
    model.train()
    loss = nn.functional.cross_entropy(model(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    validate_restoring()
    validate_mg()

# MC dropout for uncertainty, frozen BatchNorm fine-tuning
mc = make_model()
mg.pin_mode(mc, "train", types=nn.Dropout)
mc.eval()
with torch.no_grad():
    mc(torch.randn(4, 8))
ft = make_model()
mg.freeze_bn(ft)
opt2 = torch.optim.SGD([p for p in ft.parameters() if p.requires_grad], lr=0.1)
for x, y in batches(2):
    ft.train()
    loss = ft(x).pow(2).mean()
    opt2.zero_grad()
    loss.backward()
    opt2.step()

# evaluation after training
model.eval()
with torch.no_grad():
    for x, _ in batches(2):
        model(x)
print("args", sys.argv[1:])
sys.exit(3)
