"""Explain one prediction of a torchvision-style network."""
import torch
import torch.nn as nn

from cam.score import ScoreCAM


def explain(image):
    net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.Flatten(),
                        nn.LazyLinear(10))
    return ScoreCAM(net, target_layers=[net[0]])(image)
