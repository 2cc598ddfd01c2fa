"""Margin-based classification heads for face recognition (ArcFace, CosFace, SphereFace-style)."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

HEADS = {}


def head(name):
    def wrap(fn):
        HEADS[name] = fn
        return fn
    return wrap


class MarginHead(nn.Module):
    def __init__(self, emb_dim, n_classes, s=64.0):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n_classes, emb_dim))
        nn.init.xavier_uniform_(self.weight)
        self.s = s

    def cosine(self, emb):
        return F.linear(F.normalize(emb), F.normalize(self.weight)).clamp(-1 + 1e-7, 1 - 1e-7)

    def margin_logits(self, cos, labels):
        raise NotImplementedError

    def forward(self, emb, labels):
        cos = self.cosine(emb)
        logits = self.margin_logits(cos, labels)
        return F.cross_entropy(logits, labels), cos


@head("arcface")
class ArcFace(MarginHead):
    def __init__(self, emb_dim, n_classes, s=64.0, m=0.5, easy_margin=False):
        super().__init__(emb_dim, n_classes, s)
        self.m, self.easy = m, easy_margin
        self.th = math.cos(math.pi - m)
        self.mm = math.sin(math.pi - m) * m

    def margin_logits(self, cos, labels):
        sin = torch.sqrt(1.0 - cos * cos)
        phi = cos * math.cos(self.m) - sin * math.sin(self.m)
        phi = torch.where(cos > 0, phi, cos) if self.easy else torch.where(cos > self.th, phi, cos - self.mm)
        onehot = F.one_hot(labels, cos.size(1)).bool()
        return self.s * torch.where(onehot, phi, cos)


@head("cosface")
class CosFace(MarginHead):
    def __init__(self, emb_dim, n_classes, s=64.0, m=0.4):
        super().__init__(emb_dim, n_classes, s)
        self.m = m

    def margin_logits(self, cos, labels):
        return self.s * (cos - self.m * F.one_hot(labels, cos.size(1)).to(cos.dtype))


@head("combined")
class CombinedMargin(MarginHead):
    """cos(m1 * theta + m2) - m3, as in InsightFace's combined loss."""

    def __init__(self, emb_dim, n_classes, s=64.0, m1=1.0, m2=0.3, m3=0.2):
        super().__init__(emb_dim, n_classes, s)
        self.m1, self.m2, self.m3 = m1, m2, m3

    def margin_logits(self, cos, labels):
        theta = torch.acos(cos)
        target = torch.cos(self.m1 * theta + self.m2) - self.m3
        onehot = F.one_hot(labels, cos.size(1)).bool()
        return self.s * torch.where(onehot, target, cos)


def build_head(name, emb_dim, n_classes, **kw):
    return HEADS[name](emb_dim, n_classes, **kw)
