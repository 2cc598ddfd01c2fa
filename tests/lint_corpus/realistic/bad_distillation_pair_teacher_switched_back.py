"""Distillation wrapper holding teacher and student: the teacher's eval() in the constructor is
undone by the pair.train() of every epoch, so its soft targets come from training mode."""
import torch
import torch.nn.functional as F
from torch import nn
from torchvision import models


class TeacherStudent(nn.Module):
    def __init__(self, teacher, student):
        super().__init__()
        self.teacher = teacher
        self.student = student
        self.teacher.eval()

    def forward(self, x, y):
        logits = self.student(x)
        with torch.no_grad():
            target = self.teacher(x)  # expect: MG102
        return F.cross_entropy(logits, y) + F.kl_div(F.log_softmax(logits, 1),
                                                    F.softmax(target, 1), reduction="batchmean")


def fit(loader, epochs=3):
    pair = TeacherStudent(models.resnet50(), models.resnet18())
    optimizer = torch.optim.SGD(pair.student.parameters(), lr=0.1)
    for _ in range(epochs):
        pair.train()
        for x, y in loader:
            loss = pair(x, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
