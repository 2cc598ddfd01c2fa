"""Grouped K-fold training of a descriptor MLP for solubility regression.

Validation runs several times per epoch (every ``check_every`` batches) because
epochs are long; the network's mode is restored after each check.
"""
import argparse
import contextlib
import json

import numpy as np
import pandas as pd
import torch
from torch import nn
from sklearn.model_selection import GroupKFold
from sklearn.preprocessing import RobustScaler


@contextlib.contextmanager
def inference_mode_of(net: nn.Module):
    prev = net.training
    net.eval()
    try:
        with torch.inference_mode():
            yield net
    finally:
        net.train(prev)


class DescriptorNet(nn.Module):
    def __init__(self, d_in, widths=(1024, 512, 128), p=0.3):
        super().__init__()
        mods, d = [], d_in
        for w in widths:
            mods += [nn.Linear(d, w), nn.BatchNorm1d(w), nn.Mish(), nn.Dropout(p)]
            d = w
        self.features = nn.Sequential(*mods)
        self.out = nn.Linear(d, 1)

    def forward(self, x):
        return self.out(self.features(x)).squeeze(1)


def rmse_on(net, X, y, bs=2048):
    with inference_mode_of(net):
        pred = torch.cat([net(X[i:i + bs]) for i in range(0, len(X), bs)])
    return torch.sqrt(torch.mean((pred - y) ** 2)).item(), pred


def train_fold(Xtr, ytr, Xva, yva, args, device):
    net = DescriptorNet(Xtr.shape[1], p=args.dropout).to(device)
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=1e-4)
    total = args.epochs * ((len(Xtr) + args.bs - 1) // args.bs)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=total)
    best, best_state, it = np.inf, None, 0

    net.train()
    for epoch in range(args.epochs):
        perm = torch.randperm(len(Xtr), device=device)
        for b in range(0, len(perm), args.bs):
            idx = perm[b:b + args.bs]
            if idx.numel() < 2:
                continue
            loss = nn.functional.huber_loss(net(Xtr[idx]), ytr[idx], delta=1.0)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            it += 1
            if it % args.check_every == 0:
                score, _ = rmse_on(net, Xva, yva)
                if score < best:
                    best = score
                    best_state = {k: v.detach().cpu().clone() for k, v in net.state_dict().items()}
    net.load_state_dict(best_state)
    return net, best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("table")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--bs", type=int, default=128)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--dropout", type=float, default=0.3)
    ap.add_argument("--check-every", type=int, default=50)
    args = ap.parse_args()

    df = pd.read_parquet(args.table)
    groups = df.pop("scaffold_id").to_numpy()
    y = df.pop("logS").to_numpy(np.float32)
    X = df.to_numpy(np.float32)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

    oof = np.zeros_like(y)
    scores = []
    for k, (tr, va) in enumerate(GroupKFold(args.folds).split(X, y, groups)):
        sc = RobustScaler().fit(X[tr])
        t = lambda a: torch.tensor(a, device=device)
        Xtr, Xva = t(sc.transform(X[tr]).astype(np.float32)), t(sc.transform(X[va]).astype(np.float32))
        net, best = train_fold(Xtr, t(y[tr]), Xva, t(y[va]), args, device)
        _, pred = rmse_on(net, Xva, t(y[va]))
        oof[va] = pred.cpu().numpy()
        scores.append(best)
        print(f"fold {k}: best RMSE {best:.4f}")

    print("CV RMSE %.4f +- %.4f | OOF RMSE %.4f" % (np.mean(scores), np.std(scores),
                                                     np.sqrt(np.mean((oof - y) ** 2))))
    with open("cv_scores.json", "w") as f:
        json.dump({"fold_rmse": scores}, f)


if __name__ == "__main__":
    main()
