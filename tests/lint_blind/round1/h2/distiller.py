"""Knowledge-distillation wrappers (logit KD + feature hints).

The wrapper is what gets handed to the generic trainer, so the trainer's
`model.train()` / `model.eval()` calls reach it. The teacher must stay in
eval mode no matter what; the student follows the requested mode.
"""
import copy
from typing import Dict, List, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F


class FeatureHint(nn.Module):
    def __init__(self, s_ch, t_ch):
        super().__init__()
        self.adapt = nn.Sequential(nn.Conv2d(s_ch, t_ch, 1, bias=False), nn.BatchNorm2d(t_ch))

    def forward(self, fs, ft):
        fs = self.adapt(fs)
        if fs.shape[-2:] != ft.shape[-2:]:
            fs = F.interpolate(fs, size=ft.shape[-2:], mode="bilinear", align_corners=False)
        return F.mse_loss(fs, ft)


class Distiller(nn.Module):
    def __init__(self, student: nn.Module, teacher: nn.Module, hint_pairs: Optional[List[tuple]] = None,
                 temperature=4.0, alpha=0.9, hint_weight=1.0, eval_with_teacher=False):
        super().__init__()
        self.student = student
        self.teacher = teacher
        self.temperature = temperature
        self.alpha = alpha
        self.hint_weight = hint_weight
        self.eval_with_teacher = eval_with_teacher
        self.hints = nn.ModuleList([FeatureHint(s, t) for s, t in (hint_pairs or [])])
        for p in self.teacher.parameters():
            p.requires_grad_(False)
        self.teacher.eval()

    def train(self, mode: bool = True):
        super().train(mode)
        self.teacher.eval()
        return self

    def kd_loss(self, s_logits, t_logits, target):
        T = self.temperature
        soft = F.kl_div(F.log_softmax(s_logits / T, dim=1), F.softmax(t_logits / T, dim=1),
                        reduction="batchmean") * T * T
        hard = F.cross_entropy(s_logits, target)
        return self.alpha * soft + (1 - self.alpha) * hard

    def forward(self, images, target=None) -> Dict[str, torch.Tensor]:
        s_logits, s_feats = self.student(images, return_features=True)
        if not self.training:
            if self.eval_with_teacher:
                with torch.no_grad():
                    t_logits, _ = self.teacher(images, return_features=True)
                return {"logits": s_logits, "teacher_logits": t_logits}
            return {"logits": s_logits}
        with torch.no_grad():
            t_logits, t_feats = self.teacher(images, return_features=True)
        losses = {"loss_kd": self.kd_loss(s_logits, t_logits, target)}
        if len(self.hints):
            losses["loss_hint"] = self.hint_weight * sum(h(fs, ft) for h, fs, ft in zip(self.hints, s_feats, t_feats))
        return losses


class MeanTeacher(nn.Module):
    """Student + EMA teacher for semi-supervised segmentation."""

    def __init__(self, student: nn.Module, ema_decay=0.99):
        super().__init__()
        self.student = student
        self.ema = copy.deepcopy(student)
        for p in self.ema.parameters():
            p.requires_grad_(False)
        self.ema.eval()
        self.ema_decay = ema_decay
        self.register_buffer("ema_steps", torch.zeros((), dtype=torch.long))

    def train(self, mode: bool = True):
        out = super().train(mode)
        self.ema.eval()
        return out

    @torch.no_grad()
    def update_teacher(self):
        self.ema_steps += 1
        d = min(self.ema_decay, (1 + self.ema_steps.item()) / (10 + self.ema_steps.item()))
        for pe, ps in zip(self.ema.parameters(), self.student.parameters()):
            pe.mul_(d).add_(ps.detach(), alpha=1 - d)
        for be, bs in zip(self.ema.buffers(), self.student.buffers()):
            be.copy_(bs)

    def forward(self, x_lab, x_unlab=None):
        logits = self.student(x_lab)
        if x_unlab is None or not self.training:
            return logits
        with torch.no_grad():
            pseudo = self.ema(x_unlab).softmax(1)
        return logits, self.student(x_unlab), pseudo
