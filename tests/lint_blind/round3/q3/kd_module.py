"""Feature + logit distillation wrapper (teacher frozen), used by train_kd.py and the NAS search."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class Connector(nn.Module):
    """1x1 conv + BN that maps a student feature map onto the teacher's width."""

    def __init__(self, cs, ct):
        super().__init__()
        self.proj = nn.Sequential(nn.Conv2d(cs, ct, 1, bias=False), nn.BatchNorm2d(ct))

    def forward(self, x):
        return self.proj(x)


class Distiller(nn.Module):
    def __init__(self, student, teacher, s_channels, t_channels, T=4.0, w_feat=1.0, w_kd=0.9):
        super().__init__()
        self.student = student
        self.teacher = teacher
        self.connectors = nn.ModuleList(Connector(cs, ct) for cs, ct in zip(s_channels, t_channels))
        self.T, self.w_feat, self.w_kd = T, w_feat, w_kd
        self.teacher.requires_grad_(False)
        self.teacher.eval()

    def train(self, mode: bool = True):
        # the teacher is a fixed target: never let BN/dropout in it switch to training mode
        super().train(mode)
        self.teacher.train(False)
        return self

    def forward(self, x, y):
        s_feats, s_logits = self.student(x, return_features=True)
        with torch.no_grad():
            t_feats, t_logits = self.teacher(x, return_features=True)
        feat_loss = sum(F.mse_loss(c(sf), tf) for c, sf, tf in zip(self.connectors, s_feats, t_feats))
        kd = F.kl_div(F.log_softmax(s_logits / self.T, 1), F.softmax(t_logits / self.T, 1),
                      reduction="batchmean") * self.T ** 2
        ce = F.cross_entropy(s_logits, y)
        return ce * (1 - self.w_kd) + kd * self.w_kd + self.w_feat * feat_loss, s_logits

    def student_parameters(self):
        yield from self.student.parameters()
        yield from self.connectors.parameters()


def train_kd(distiller, train_dl, val_dl, epochs, lr=0.05, device="cuda"):
    distiller.to(device)
    opt = torch.optim.SGD(distiller.student_parameters(), lr=lr, momentum=0.9, weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, lr, total_steps=epochs * len(train_dl))
    for ep in range(epochs):
        distiller.train()
        for x, y in train_dl:
            x, y = x.to(device), y.to(device)
            loss, _ = distiller(x, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()

        student = distiller.student
        student.eval()
        correct = n = 0
        with torch.no_grad():
            for x, y in val_dl:
                x, y = x.to(device), y.to(device)
                correct += (student(x).argmax(1) == y).sum().item()
                n += y.numel()
        print(f"epoch {ep}: student top-1 {100.0 * correct / n:.2f}")
    return distiller.student
