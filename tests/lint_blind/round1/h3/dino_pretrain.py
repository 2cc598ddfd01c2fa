"""Self-distillation pretraining with a momentum teacher and a kNN monitor."""
import argparse
import copy
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from backbones import vit_small
from heads import ProjectionHead
from ssl_data import build_knn_loaders, build_multicrop_loader


class SelfDistillLoss(nn.Module):
    def __init__(self, out_dim, n_crops, t_student=0.1, t_teacher=0.04, center_m=0.9):
        super().__init__()
        self.n_crops = n_crops
        self.t_s = t_student
        self.t_t = t_teacher
        self.center_m = center_m
        self.register_buffer("center", torch.zeros(1, out_dim))

    def forward(self, s_out, t_out):
        s_chunks = (s_out / self.t_s).chunk(self.n_crops)
        t_probs = F.softmax((t_out - self.center) / self.t_t, dim=-1).detach().chunk(2)
        loss, terms = 0.0, 0
        for ti, tp in enumerate(t_probs):
            for si, sc in enumerate(s_chunks):
                if si == ti:
                    continue
                loss = loss + torch.sum(-tp * F.log_softmax(sc, dim=-1), dim=-1).mean()
                terms += 1
        self._recenter(t_out)
        return loss / terms

    @torch.no_grad()
    def _recenter(self, t_out):
        self.center.mul_(self.center_m).add_(t_out.mean(0, keepdim=True), alpha=1 - self.center_m)


class DistillRunner:
    def __init__(self, args, device):
        self.device = device
        backbone = vit_small(patch_size=args.patch, drop_path_rate=args.drop_path)
        self.student = nn.Sequential(backbone, ProjectionHead(backbone.embed_dim, args.out_dim))
        self.student.to(device)
        self.teacher = copy.deepcopy(self.student)
        self.teacher.requires_grad_(False)
        self.teacher.eval()
        self.criterion = SelfDistillLoss(args.out_dim, n_crops=2 + args.local_crops).to(device)
        self.opt = torch.optim.AdamW(self.student.parameters(), lr=args.lr, weight_decay=args.wd)
        self.base_m = args.momentum_teacher

    def momentum_at(self, step, total):
        return 1.0 - (1.0 - self.base_m) * (math.cos(math.pi * step / total) + 1) / 2

    @torch.no_grad()
    def momentum_update(self, m):
        for p_t, p_s in zip(self.teacher.parameters(), self.student.parameters()):
            p_t.mul_(m).add_(p_s.detach(), alpha=1.0 - m)
        for b_t, b_s in zip(self.teacher.buffers(), self.student.buffers()):
            b_t.copy_(b_s)

    def train_one_epoch(self, loader, epoch, total_steps):
        self.student.train()
        running = 0.0
        for i, crops in enumerate(loader):
            step = epoch * len(loader) + i
            crops = [c.to(self.device, non_blocking=True) for c in crops]
            globals_ = torch.cat(crops[:2])
            with torch.no_grad():
                t_out = self.teacher(globals_)
            s_out = self.student(globals_)
            if len(crops) > 2:
                s_out = torch.cat([s_out, self.student(torch.cat(crops[2:]))])
            loss = self.criterion(s_out, t_out)
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(self.student.parameters(), 3.0)
            self.opt.step()
            self.momentum_update(self.momentum_at(step, total_steps))
            running += loss.item()
        return running / len(loader)

    @torch.no_grad()
    def knn_accuracy(self, bank_loader, query_loader, k=20, temp=0.07, n_cls=1000):
        encoder = self.teacher[0]
        bank, bank_y = [], []
        for x, y in bank_loader:
            bank.append(F.normalize(encoder(x.to(self.device)), dim=1))
            bank_y.append(y.to(self.device))
        bank, bank_y = torch.cat(bank), torch.cat(bank_y)
        correct = total = 0
        for x, y in query_loader:
            q = F.normalize(encoder(x.to(self.device)), dim=1)
            sim, idx = (q @ bank.T).topk(k, dim=1)
            weights = (sim / temp).exp()
            votes = torch.zeros(q.size(0), n_cls, device=self.device)
            votes.scatter_add_(1, bank_y[idx], weights)
            correct += (votes.argmax(1) == y.to(self.device)).sum().item()
            total += y.numel()
        return correct / total


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--patch", type=int, default=16)
    p.add_argument("--drop-path", type=float, default=0.1)
    p.add_argument("--out-dim", type=int, default=65536)
    p.add_argument("--local-crops", type=int, default=6)
    p.add_argument("--lr", type=float, default=5e-4)
    p.add_argument("--wd", type=float, default=0.04)
    p.add_argument("--momentum-teacher", type=float, default=0.996)
    p.add_argument("--epochs", type=int, default=100)
    p.add_argument("--knn-every", type=int, default=10)
    args = p.parse_args()

    device = torch.device("cuda")
    runner = DistillRunner(args, device)
    loader = build_multicrop_loader(args.data, local_crops=args.local_crops)
    bank_loader, query_loader = build_knn_loaders(args.data)
    total = args.epochs * len(loader)
    for epoch in range(args.epochs):
        loss = runner.train_one_epoch(loader, epoch, total)
        msg = f"epoch {epoch}: loss {loss:.4f}"
        if (epoch + 1) % args.knn_every == 0:
            msg += f" knn@20 {runner.knn_accuracy(bank_loader, query_loader):.4f}"
        print(msg)
        torch.save({"student": runner.student.state_dict(),
                    "teacher": runner.teacher.state_dict()}, f"ckpt_{epoch:04d}.pth")


if __name__ == "__main__":
    main()
