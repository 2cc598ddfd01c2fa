"""Runs the distillation epochs defined in epoch.py: the teacher's eval() there is never undone,
on purpose, since the teacher is only run under no_grad."""
import torch
from torchvision import models

from epoch import distill_epoch


def main(loader, epochs=10):
    student, teacher = models.resnet18(), models.resnet50()
    optimizer = torch.optim.SGD(student.parameters(), lr=0.1)
    for _ in range(epochs):
        distill_epoch(student, teacher, loader, optimizer, True)
