"""2D-to-3D human pose lifting on Human3.6M detections (residual MLP).

The residual blocks use LayerNorm instead of BatchNorm and no dropout, so the network is
deterministic and behaves the same regardless of module mode.
"""
import argparse
import os

import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

from h36m_utils import load_h36m_pairs, procrustes_align

N_JOINTS = 17


class ResidualMLP(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.ln1 = nn.LayerNorm(width)
        self.fc1 = nn.Linear(width, width)
        self.ln2 = nn.LayerNorm(width)
        self.fc2 = nn.Linear(width, width)
        self.act = nn.GELU()

    def forward(self, x):
        y = self.fc1(self.act(self.ln1(x)))
        y = self.fc2(self.act(self.ln2(y)))
        return x + y


class PoseLifter(nn.Module):
    def __init__(self, width=1024, n_blocks=3):
        super().__init__()
        self.inp = nn.Linear(N_JOINTS * 2, width)
        self.blocks = nn.Sequential(*[ResidualMLP(width) for _ in range(n_blocks)])
        self.out = nn.Linear(width, N_JOINTS * 3)

    def forward(self, kp2d):
        return self.out(self.blocks(self.inp(kp2d.flatten(1)))).view(-1, N_JOINTS, 3)


def mpjpe(pred, gt):
    return (pred - gt).norm(dim=-1).mean(dim=-1)


def evaluate(lifter, loader, device):
    errs, pa_errs = [], []
    with torch.no_grad():
        for kp2d, kp3d in loader:
            pred = lifter(kp2d.to(device)).cpu()
            pred = pred - pred[:, :1]
            gt = kp3d - kp3d[:, :1]
            errs.append(mpjpe(pred, gt))
            pa_errs.append(mpjpe(procrustes_align(pred, gt), gt))
    return torch.cat(errs).mean().item(), torch.cat(pa_errs).mean().item()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="data/h36m_cpn.npz")
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--bs", type=int, default=1024)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--out", default="ckpt/lifter")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    device = "cuda" if torch.cuda.is_available() else "cpu"

    (tr2d, tr3d), (te2d, te3d) = load_h36m_pairs(args.data)
    train_dl = DataLoader(TensorDataset(torch.from_numpy(tr2d).float(),
                                        torch.from_numpy(tr3d).float()),
                          batch_size=args.bs, shuffle=True, drop_last=True)
    test_dl = DataLoader(TensorDataset(torch.from_numpy(te2d).float(),
                                       torch.from_numpy(te3d).float()), batch_size=4096)

    lifter = PoseLifter().to(device)
    opt = torch.optim.Adam(lifter.parameters(), lr=args.lr)
    sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.96)
    best = np.inf
    for epoch in range(args.epochs):
        for kp2d, kp3d in train_dl:
            kp2d, kp3d = kp2d.to(device), kp3d.to(device)
            pred = lifter(kp2d)
            loss = mpjpe(pred - pred[:, :1], kp3d - kp3d[:, :1]).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
        err, pa_err = evaluate(lifter, test_dl, device)
        print(f"epoch {epoch:3d}  MPJPE {err * 1000:.1f} mm  PA-MPJPE {pa_err * 1000:.1f} mm")
        if err < best:
            best = err
            torch.save(lifter.state_dict(), os.path.join(args.out, "best.pth"))


if __name__ == "__main__":
    main()
