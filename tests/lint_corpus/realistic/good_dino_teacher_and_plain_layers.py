"""Self-distillation wrapper: the teacher is an EMA copy the module builds lazily and runs under
no_grad in whatever mode the wrapper is in (deliberate, as in BYOL/DINO); a logistic
regression made of one nn.Linear is tested under no_grad (nothing in it depends on the mode);
a head is rescaled under no_grad through get_classifier(), which runs nothing."""
import copy

import torch
import torch.nn as nn


class Dino(nn.Module):
    def __init__(self, student):
        super().__init__()
        self.student_encoder = student
        self.teacher_encoder = None

    def _get_teacher_encoder(self):
        if self.teacher_encoder is None:
            self.teacher_encoder = copy.deepcopy(self.student_encoder)
            for p in self.teacher_encoder.parameters():
                p.requires_grad = False
        return self.teacher_encoder

    def forward(self, local_view, global_view):
        student_out = self.student_encoder(local_view)
        with torch.no_grad():
            teacher_encoder = self._get_teacher_encoder()
            teacher_out = teacher_encoder(global_view)
        return (student_out - teacher_out).pow(2).mean()


def logistic_regression(train_loader, test_loader, epochs=5):
    model = nn.Linear(784, 10)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    for epoch in range(epochs):
        for images, labels in train_loader:
            loss = nn.functional.cross_entropy(model(images.reshape(-1, 784)), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    with torch.no_grad():
        correct = 0
        for images, labels in test_loader:
            correct += (model(images.reshape(-1, 784)).argmax(1) == labels).sum().item()
    return correct


def rescale_head(model, scale):
    with torch.no_grad():
        model.get_classifier().weight.mul_(scale)
