"""Knowledge distillation recipe: setup() builds the teacher with a helper that puts it in
eval mode; the loss step runs it under no_grad. The student trains in train mode."""
import torch
import torch.nn as nn


def build_model():
    return nn.Sequential(nn.Linear(16, 64), nn.Dropout(0.1), nn.Linear(64, 4))


class DistillRecipe:
    def setup(self):
        self._model = build_model()
        self._teacher_model = self._setup_teacher_model()
        self._opt = torch.optim.AdamW(self._model.parameters())

    def _setup_teacher_model(self):
        model = build_model()
        model.load_state_dict(torch.load("teacher.pt"))
        model.eval()
        return model

    def _loss_step(self, tokens, labels):
        logits = self._model(tokens)
        with torch.no_grad():
            teacher_logits = self._teacher_model(tokens)
        return nn.functional.kl_div(logits.log_softmax(-1), teacher_logits.softmax(-1))

    def train(self, loader):
        self._model.train()
        for tokens, labels in loader:
            loss = self._loss_step(tokens, labels)
            loss.backward()
            self._opt.step()
            self._opt.zero_grad()
