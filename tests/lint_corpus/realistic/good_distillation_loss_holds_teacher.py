"""A distillation loss module that receives the teacher from the caller (who put it in eval
mode) and runs it under no_grad. The loss module itself is never switched to train(), and it
holds no network it trains: the teacher's mode is the caller's business."""
import torch
import torch.nn.functional as F
from torch import nn


class SoftTargetLoss(nn.Module):
    def __init__(self, base_loss, teacher, weight=0.5, tau=3.0):
        super().__init__()
        self.base_loss = base_loss
        self.teacher = teacher
        self.weight = weight
        self.tau = tau

    def forward(self, inputs, logits, labels):
        hard = self.base_loss(logits, labels)
        with torch.no_grad():
            target = self.teacher(inputs)
        soft = F.kl_div(F.log_softmax(logits / self.tau, 1), F.log_softmax(target / self.tau, 1),
                        reduction="batchmean", log_target=True)
        return (1 - self.weight) * hard + self.weight * soft * self.tau ** 2
