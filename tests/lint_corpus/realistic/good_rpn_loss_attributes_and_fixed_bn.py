"""Detection code: the RPN stores its losses on self only when training (reset at the top of
every forward); the backbone freezes BatchNorm parameters with requires_grad and keeps the
statistics frozen too, by overriding train()."""
import torch.nn as nn
import torch.nn.functional as F


class RPN(nn.Module):
    def __init__(self):
        super().__init__()
        self.cls = nn.Conv2d(256, 18, 1)
        self.rpn_loss_cls = 0

    def forward(self, feats, labels=None):
        self.rpn_loss_cls = 0
        scores = self.cls(feats)
        if self.training:
            self.rpn_loss_cls = F.cross_entropy(scores.flatten(2), labels)
        return scores, self.rpn_loss_cls


class Backbone(nn.Module):
    def __init__(self, base):
        super().__init__()
        self.base = base

        def set_bn_fix(m):
            if m.__class__.__name__.find("BatchNorm") != -1:
                for p in m.parameters():
                    p.requires_grad = False
        self.base.apply(set_bn_fix)

    def train(self, mode=True):
        nn.Module.train(self, mode)
        if mode:
            def set_bn_eval(m):
                if m.__class__.__name__.find("BatchNorm") != -1:
                    m.eval()
            self.base.apply(set_bn_eval)
        return self
