"""Inference script: a loader builds the network, restores weights and switches it to eval
itself; the script then predicts under no_grad. Nothing is wrong."""
import torch
import torch.nn as nn


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU())
        self.head = nn.Linear(8, 10)

    def forward(self, x):
        return self.head(self.body(x).mean((2, 3)))

    def embed(self, x):
        return self.body(x).mean((2, 3))


def load_model(path):
    model = Classifier()
    model.load_state_dict(torch.load(path))
    model.eval()
    return model


def main(path, images):
    model = load_model(path).to("cpu")
    with torch.no_grad():
        logits = model(images)
        features = model.embed(images)  # a method of the model, in the mode the model is in
    return logits, features
