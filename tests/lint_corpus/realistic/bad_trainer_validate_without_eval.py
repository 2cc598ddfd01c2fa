"""3D U-Net trainer class: validation turns gradients off but not training mode."""
import torch
import torch.nn as nn


class UNet3D(nn.Module):
    def __init__(self, in_channels=1, out_channels=2, layer_order="cbr"):
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv3d(in_channels, 32, 3, padding=1), nn.BatchNorm3d(32), nn.ReLU())
        self.final_conv = nn.Conv3d(32, out_channels, 1)

    def forward(self, x):
        return self.final_conv(self.encoder(x))


class UNet3DTrainer:
    def __init__(self, model, optimizer, loss_criterion, loaders, validate_after_iters=100):
        self.model = model
        self.optimizer = optimizer
        self.loss_criterion = loss_criterion
        self.loaders = loaders
        self.validate_after_iters = validate_after_iters
        self.num_iterations = 0

    def train(self):
        self.model.train()
        for input, target in self.loaders["train"]:
            loss = self.loss_criterion(self.model(input), target)
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            self.num_iterations += 1
            if self.num_iterations % self.validate_after_iters == 0:
                self.validate()

    def validate(self):
        losses = []
        with torch.no_grad():
            for input, target in self.loaders["val"]:
                output = self.model(input)  # expect: MG102
                losses.append(self.loss_criterion(output, target).item())
        return sum(losses) / max(len(losses), 1)
