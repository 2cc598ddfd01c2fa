import torch

import modeguard as mg
from mypkg import build_model

model = build_model()
mg.pin_mode(model, "train", types=torch.nn.Dropout)


def predict_with_uncertainty(x, samples=20):
    with torch.no_grad():
        return torch.stack([model(x) for _ in range(samples)])  # expect: MG102
