"""Anomaly detection: a frozen pretrained backbone used as a feature extractor, in training mode."""
import timm
import torch
import torch.nn as nn


class FeatureExtractor(nn.Module):
    def __init__(self, backbone="resnet18", layers=("layer2", "layer3")):
        super().__init__()
        self.layers = layers
        self.feature_extractor = timm.create_model(backbone, pretrained=True, features_only=True,
                                                   out_indices=(2, 3))

    def forward(self, x):
        with torch.no_grad():
            features = self.feature_extractor(x)  # expect: MG102
        return dict(zip(self.layers, features))
