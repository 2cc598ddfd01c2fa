"""Teacher/student networks for logit + feature distillation on CIFAR-100."""
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision


class SmallResStudent(nn.Module):
    def __init__(self, n_classes=100, width=64, drop=0.2):
        super().__init__()

        def block(cin, cout, stride):
            return nn.Sequential(
                nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout),
                nn.ReLU(inplace=True),
                nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout),
                nn.ReLU(inplace=True))

        self.stem = nn.Sequential(nn.Conv2d(3, width, 3, 1, 1, bias=False),
                                  nn.BatchNorm2d(width), nn.ReLU(inplace=True))
        self.s1 = block(width, width, 1)
        self.s2 = block(width, width * 2, 2)
        self.s3 = block(width * 2, width * 4, 2)
        self.drop = drop
        self.fc = nn.Linear(width * 4, n_classes)
        self.feat_dim = width * 4

    def forward(self, x, return_feat=False):
        f = self.s3(self.s2(self.s1(self.stem(x))))
        pooled = F.adaptive_avg_pool2d(f, 1).flatten(1)
        logits = self.fc(F.dropout(pooled, self.drop, training=self.training))
        return (logits, f) if return_feat else logits


def resnet50_teacher(n_classes=100, ckpt=None):
    t = torchvision.models.resnet50(num_classes=n_classes)
    t.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
    t.maxpool = nn.Identity()
    if ckpt:
        t.load_state_dict(torch.load(ckpt, map_location="cpu"))
    return t


def teacher_feature_map(t, x):
    x = t.maxpool(t.relu(t.bn1(t.conv1(x))))
    return t.layer4(t.layer3(t.layer2(t.layer1(x))))


class Distiller(nn.Module):
    """Holds the student, a frozen teacher and a feature adapter.

    The teacher is pinned to inference mode: ``train()`` on the distiller switches the
    student and adapter but immediately puts the teacher back into eval.
    """

    def __init__(self, student, teacher, teacher_feat_dim=2048):
        super().__init__()
        self.student = student
        self.teacher = teacher
        self.adapter = nn.Conv2d(student.feat_dim, teacher_feat_dim, 1, bias=False)
        for p in self.teacher.parameters():
            p.requires_grad_(False)
        self.teacher.eval()

    def train(self, mode: bool = True):
        super().train(mode)
        self.teacher.eval()
        return self

    def forward(self, x):
        s_logits, s_feat = self.student(x, return_feat=True)
        with torch.no_grad():
            t_feat = teacher_feature_map(self.teacher, x)
            t_logits = self.teacher.fc(F.adaptive_avg_pool2d(t_feat, 1).flatten(1))
        s_proj = self.adapter(s_feat)
        s_proj = F.interpolate(s_proj, size=t_feat.shape[-2:], mode="bilinear",
                               align_corners=False)
        return s_logits, t_logits, s_proj, t_feat
