"""Graph attention network (dense adjacency) for Cora/Citeseer/Pubmed.

Planetoid splits are read from the preprocessed .npz produced by prep_planetoid.py.
"""
import argparse
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class GraphAttentionLayer(nn.Module):
    def __init__(self, in_dim, out_dim, heads, feat_drop, attn_drop, concat=True, negative_slope=0.2):
        super().__init__()
        self.heads, self.out_dim, self.concat = heads, out_dim, concat
        self.W = nn.Linear(in_dim, heads * out_dim, bias=False)
        self.a_src = nn.Parameter(torch.empty(heads, out_dim))
        self.a_dst = nn.Parameter(torch.empty(heads, out_dim))
        self.bias = nn.Parameter(torch.zeros(heads * out_dim if concat else out_dim))
        self.feat_drop, self.attn_drop = feat_drop, attn_drop
        self.leaky = nn.LeakyReLU(negative_slope)
        nn.init.xavier_uniform_(self.W.weight, gain=1.414)
        nn.init.xavier_uniform_(self.a_src, gain=1.414)
        nn.init.xavier_uniform_(self.a_dst, gain=1.414)

    def forward(self, x, adj):
        n = x.size(0)
        x = F.dropout(x, self.feat_drop, training=self.training)
        h = self.W(x).view(n, self.heads, self.out_dim)
        e_src = (h * self.a_src).sum(-1)             # (n, H)
        e_dst = (h * self.a_dst).sum(-1)             # (n, H)
        e = self.leaky(e_dst.unsqueeze(1) + e_src.unsqueeze(0))  # (n_dst, n_src, H)
        e = e.masked_fill(~adj.unsqueeze(-1), float("-inf"))
        alpha = torch.softmax(e, dim=1)
        alpha = F.dropout(alpha, p=self.attn_drop)  # expect: MG201
        out = torch.einsum("ijh,jhd->ihd", alpha, h)
        out = out.reshape(n, -1) if self.concat else out.mean(1)
        return out + self.bias


class GAT(nn.Module):
    def __init__(self, n_feat, n_class, hidden=8, heads=8, out_heads=1, in_drop=0.6, attn_drop=0.6):
        super().__init__()
        self.in_drop = in_drop
        self.l1 = GraphAttentionLayer(n_feat, hidden, heads, 0.0, attn_drop)
        self.l2 = GraphAttentionLayer(hidden * heads, n_class, out_heads, 0.0, attn_drop, concat=False)

    def forward(self, x, adj):
        x = F.dropout(x, self.in_drop, True)  # expect: MG201
        x = F.elu(self.l1(x, adj))
        x = F.dropout(x, self.in_drop, self.training)
        return self.l2(x, adj)


def load(path, device):
    z = np.load(path)
    n = z["features"].shape[0]
    adj = torch.zeros(n, n, dtype=torch.bool)
    src, dst = z["edge_index"]
    adj[dst, src] = True
    adj |= torch.eye(n, dtype=torch.bool)
    feats = torch.tensor(z["features"], dtype=torch.float32)
    feats = feats / feats.sum(1, keepdim=True).clamp(min=1)
    to = lambda t: t.to(device)
    return (to(feats), to(adj), to(torch.tensor(z["labels"])), to(torch.tensor(z["train_mask"])),
            to(torch.tensor(z["val_mask"])), to(torch.tensor(z["test_mask"])))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="data/cora.npz")
    ap.add_argument("--epochs", type=int, default=1000)
    ap.add_argument("--patience", type=int, default=100)
    ap.add_argument("--lr", type=float, default=5e-3)
    ap.add_argument("--wd", type=float, default=5e-4)
    args = ap.parse_args()
    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    x, adj, y, tr, va, te = load(args.data, dev)

    gat = GAT(x.size(1), int(y.max()) + 1).to(dev)
    opt = torch.optim.Adam(gat.parameters(), lr=args.lr, weight_decay=args.wd)

    def step():
        gat.train()
        opt.zero_grad()
        out = gat(x, adj)
        loss = F.cross_entropy(out[tr], y[tr])
        loss.backward()
        opt.step()
        return loss.item()

    @torch.no_grad()
    def scores():
        gat.eval()
        logits = gat(x, adj)
        pred = logits.argmax(1)
        val_loss = F.cross_entropy(logits[va], y[va]).item()
        return val_loss, [(pred[m] == y[m]).float().mean().item() for m in (tr, va, te)]

    best_val, best_test, wait = float("inf"), 0.0, 0
    t0 = time.time()
    for epoch in range(1, args.epochs + 1):
        loss = step()
        val_loss, (tr_acc, va_acc, te_acc) = scores()
        if val_loss < best_val:
            best_val, best_test, wait = val_loss, te_acc, 0
        else:
            wait += 1
            if wait >= args.patience:
                break
        if epoch % 20 == 0:
            print(f"{epoch:04d} loss {loss:.4f} train {tr_acc:.3f} val {va_acc:.3f} test {te_acc:.3f}")
    print(f"done in {time.time() - t0:.1f}s, test acc at best val loss: {best_test:.4f}")


if __name__ == "__main__":
    main()
