import torch

import modeguard as mg
from mypkg import build_model

model = build_model()
encoder = build_model()
mg.pin_mode(encoder, "eval")  # a frozen feature extractor, held in eval by a policy
mg.pin_mode(model, "train", types=torch.nn.Dropout)
model.eval()


def predict_with_uncertainty(x, samples=20):
    with torch.no_grad():
        features = encoder(x)
        return torch.stack([model(features) for _ in range(samples)])
