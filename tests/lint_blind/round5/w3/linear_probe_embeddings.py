"""Linear / 2-layer probe on frozen CLIP embeddings stored in parquet files.

    python linear_probe_embeddings.py --train emb_train.parquet --test emb_test.parquet \
        --lr-expr "0.1 * 0.5 ** (e // 10)" --filter "aesthetic_score > 4.5"
"""
import argparse

import numpy as np
import pandas as pd
import torch
import torch.nn as nn


class Probe(nn.Module):
    def __init__(self, d_in, n_classes, hidden=0):
        super().__init__()
        if hidden:
            self.net = nn.Sequential(nn.Linear(d_in, hidden), nn.ReLU(), nn.Linear(hidden, n_classes))
        else:
            self.net = nn.Linear(d_in, n_classes)

    def forward(self, x):
        return self.net(x)


def load(path, query):
    df = pd.read_parquet(path)
    if query:
        df = df[df.eval(query)]
    x = torch.tensor(np.stack(df["embedding"].values), dtype=torch.float32)
    x = x / x.norm(dim=1, keepdim=True)
    return x, torch.tensor(df["label"].values, dtype=torch.long)


def predict(probe, x, bs=4096):
    outs = []
    with torch.no_grad():
        for i in range(0, len(x), bs):
            outs.append(probe(x[i:i + bs]).argmax(1))
    return torch.cat(outs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", required=True)
    ap.add_argument("--test", required=True)
    ap.add_argument("--filter", default="")
    ap.add_argument("--hidden", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--lr-expr", default="0.1", help="python expression of the epoch `e`")
    args = ap.parse_args()

    x_tr, y_tr = load(args.train, args.filter)
    x_te, y_te = load(args.test, args.filter)
    n_classes = int(max(y_tr.max(), y_te.max())) + 1
    probe = Probe(x_tr.shape[1], n_classes, args.hidden)

    lr_at = eval("lambda e: " + args.lr_expr)
    opt = torch.optim.SGD(probe.parameters(), lr=1.0, momentum=0.9)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
    loss_fn = nn.CrossEntropyLoss()

    for epoch in range(args.epochs):
        perm = torch.randperm(len(x_tr))
        for i in range(0, len(perm), 1024):
            idx = perm[i:i + 1024]
            loss = loss_fn(probe(x_tr[idx]), y_tr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
        acc = (predict(probe, x_te) == y_te).float().mean().item()
        print(f"epoch {epoch:02d} lr {sched.get_last_lr()[0]:.4f} test acc {acc:.4f}")

    per_class = pd.DataFrame({"y": y_te.numpy(), "pred": predict(probe, x_te).numpy()})
    per_class = per_class.assign(ok=lambda d: d.y == d.pred).groupby("y").ok.mean()
    print(per_class.sort_values().head(10))


if __name__ == "__main__":
    main()
