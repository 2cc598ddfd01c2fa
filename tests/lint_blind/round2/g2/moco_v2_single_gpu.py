"""MoCo v2 pretraining, single-GPU variant with split-batch "shuffle BN" emulation.

The key encoder is a momentum copy of the query encoder.  As in the original
recipe it runs in training mode (its BatchNorm sees the key batch), but without
gradients; the batch is split into groups to emulate per-GPU BN statistics.
"""
import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision.models as tvm

from aug import MoCoV2Transform, TwoCrop
from folder import UnlabeledFolder


class SplitBatchNorm(nn.BatchNorm2d):
    def __init__(self, num_features, num_splits, **kw):
        super().__init__(num_features, **kw)
        self.num_splits = num_splits

    def forward(self, x):
        N, C, H, W = x.shape
        if self.training or not self.track_running_stats:
            rm = self.running_mean.repeat(self.num_splits)
            rv = self.running_var.repeat(self.num_splits)
            out = F.batch_norm(x.view(-1, C * self.num_splits, H, W), rm, rv,
                               self.weight.repeat(self.num_splits), self.bias.repeat(self.num_splits),
                               True, self.momentum, self.eps).view(N, C, H, W)
            self.running_mean.data.copy_(rm.view(self.num_splits, C).mean(0))
            self.running_var.data.copy_(rv.view(self.num_splits, C).mean(0))
            return out
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            False, self.momentum, self.eps)


class MoCo(nn.Module):
    def __init__(self, dim=128, K=65536, m=0.999, T=0.2, bn_splits=8):
        super().__init__()
        self.K, self.m, self.T = K, m, T
        norm = lambda c: SplitBatchNorm(c, bn_splits)
        self.encoder_q = tvm.resnet50(num_classes=dim, norm_layer=norm)
        hidden = self.encoder_q.fc.weight.shape[1]
        self.encoder_q.fc = nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, dim))
        self.encoder_k = copy.deepcopy(self.encoder_q)
        for p in self.encoder_k.parameters():
            p.requires_grad = False
        self.register_buffer("queue", F.normalize(torch.randn(dim, K), dim=0))
        self.register_buffer("ptr", torch.zeros(1, dtype=torch.long))

    @torch.no_grad()
    def _momentum_update(self):
        for pq, pk in zip(self.encoder_q.parameters(), self.encoder_k.parameters()):
            pk.data.mul_(self.m).add_(pq.data, alpha=1.0 - self.m)

    @torch.no_grad()
    def _enqueue(self, keys):
        n, p = keys.shape[0], int(self.ptr)
        self.queue[:, p:p + n] = keys.T
        self.ptr[0] = (p + n) % self.K

    def forward(self, im_q, im_k):
        q = F.normalize(self.encoder_q(im_q), dim=1)
        with torch.no_grad():
            self._momentum_update()
            perm = torch.randperm(im_k.size(0), device=im_k.device)
            k = F.normalize(self.encoder_k(im_k[perm]), dim=1)
            k = k[torch.argsort(perm)]
        l_pos = (q * k).sum(1, keepdim=True)
        l_neg = q @ self.queue.clone().detach()
        logits = torch.cat([l_pos, l_neg], dim=1) / self.T
        labels = torch.zeros(logits.size(0), dtype=torch.long, device=logits.device)
        self._enqueue(k)
        return F.cross_entropy(logits, labels)


def pretrain(root, epochs=200, bs=256, lr=0.03):
    ds = UnlabeledFolder(root, TwoCrop(MoCoV2Transform(224)))
    loader = torch.utils.data.DataLoader(ds, bs, shuffle=True, num_workers=16, drop_last=True, pin_memory=True)
    moco = MoCo().cuda()
    opt = torch.optim.SGD(moco.encoder_q.parameters(), lr=lr, momentum=0.9, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
    for ep in range(epochs):
        moco.train()
        total = 0.0
        for (im_q, im_k), _ in loader:
            loss = moco(im_q.cuda(non_blocking=True), im_k.cuda(non_blocking=True))
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item()
        sched.step()
        print(f"ep {ep}: loss {total / len(loader):.4f}")
        torch.save({"state_dict": moco.state_dict(), "epoch": ep + 1}, "moco_v2_last.pth.tar")


if __name__ == "__main__":
    pretrain("/data/imagenet/train")
