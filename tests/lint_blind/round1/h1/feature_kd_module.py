"""Feature + logit distillation wrapper.

The teacher lives inside the wrapper so that ``.to()``, ``.cuda()`` and
DDP see one module; ``train()`` is overridden so that the teacher stays in
eval mode whatever the training loop does to the wrapper.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


class ConnectorBN(nn.Module):
    """1x1 conv + BN mapping student channels onto teacher channels."""

    def __init__(self, c_s, c_t):
        super().__init__()
        self.proj = nn.Sequential(nn.Conv2d(c_s, c_t, 1, bias=False), nn.BatchNorm2d(c_t))

    def forward(self, x):
        return self.proj(x)


class FeatureDistiller(nn.Module):
    def __init__(self, student, teacher, s_channels, t_channels, tau=2.0, beta=50.0):
        super().__init__()
        self.student = student
        self.teacher = teacher
        self.connectors = nn.ModuleList(ConnectorBN(cs, ct) for cs, ct in zip(s_channels, t_channels))
        self.tau = tau
        self.beta = beta
        for p in self.teacher.parameters():
            p.requires_grad_(False)
        self.teacher.eval()

    def train(self, mode: bool = True):
        super().train(mode)
        self.teacher.eval()
        return self

    def forward(self, x, target=None):
        s_feats, s_logits = self.student(x, return_features=True)
        if target is None:
            return s_logits
        with torch.no_grad():
            t_feats, t_logits = self.teacher(x, return_features=True)
        feat_loss = sum(F.mse_loss(c(sf), tf) for c, sf, tf in zip(self.connectors, s_feats, t_feats))
        kl = F.kl_div(F.log_softmax(s_logits / self.tau, 1), F.softmax(t_logits / self.tau, 1),
                      reduction="batchmean") * self.tau ** 2
        ce = F.cross_entropy(s_logits, target)
        return s_logits, ce + kl + self.beta * feat_loss


def train_distiller(distiller, train_loader, test_loader, epochs, device):
    params = list(distiller.student.parameters()) + list(distiller.connectors.parameters())
    opt = torch.optim.SGD(params, lr=0.05, momentum=0.9, weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[150, 180, 210], gamma=0.1)
    for epoch in range(epochs):
        distiller.train()
        for x, y in train_loader:
            x, y = x.to(device), y.to(device)
            _, loss = distiller(x, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()

        distiller.eval()
        correct = seen = 0
        with torch.no_grad():
            for x, y in test_loader:
                x, y = x.to(device), y.to(device)
                correct += (distiller(x).argmax(1) == y).sum().item()
                seen += y.size(0)
        print(f"epoch {epoch}: student acc {100.0 * correct / seen:.2f}")
    return distiller.student
