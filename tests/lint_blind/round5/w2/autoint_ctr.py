import argparse
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.metrics import roc_auc_score

from ctrkit.datasets import AvazuDataset


class InteractingLayer(nn.Module):
    """Multi-head self-attention across feature fields (AutoInt)."""

    def __init__(self, dim, heads=2, attn_dropout=0.1, use_residual=True):
        super().__init__()
        assert dim % heads == 0
        self.heads, self.d = heads, dim // heads
        self.w_q = nn.Linear(dim, dim, bias=False)
        self.w_k = nn.Linear(dim, dim, bias=False)
        self.w_v = nn.Linear(dim, dim, bias=False)
        self.w_res = nn.Linear(dim, dim, bias=False) if use_residual else None
        self.attn_dropout = attn_dropout

    def forward(self, x):
        b, f, _ = x.shape
        q = self.w_q(x).view(b, f, self.heads, self.d).transpose(1, 2)
        k = self.w_k(x).view(b, f, self.heads, self.d).transpose(1, 2)
        v = self.w_v(x).view(b, f, self.heads, self.d).transpose(1, 2)
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.d)
        attn = F.softmax(scores, dim=-1)
        attn = F.dropout(attn, p=self.attn_dropout)  # expect: MG201
        out = torch.matmul(attn, v).transpose(1, 2).reshape(b, f, -1)
        if self.w_res is not None:
            out = out + self.w_res(x)
        return F.relu(out)


class AutoInt(nn.Module):
    def __init__(self, field_dims, embed_dim=16, atten_dim=64, n_layers=3, heads=2, mlp_dropout=0.2):
        super().__init__()
        self.embedding = nn.Embedding(sum(field_dims), embed_dim)
        self.register_buffer(
            "offsets", torch.tensor([0] + list(field_dims[:-1])).cumsum(0), persistent=False)
        self.proj = nn.Linear(embed_dim, atten_dim)
        self.interacting = nn.Sequential(*[InteractingLayer(atten_dim, heads) for _ in range(n_layers)])
        n_fields = len(field_dims)
        self.mlp = nn.Sequential(
            nn.Linear(n_fields * embed_dim, 256), nn.BatchNorm1d(256), nn.ReLU(), nn.Dropout(mlp_dropout),
            nn.Linear(256, 1))
        self.head = nn.Linear(n_fields * atten_dim, 1)

    def forward(self, x):
        e = self.embedding(x + self.offsets)
        z = self.interacting(self.proj(e))
        return (self.head(z.flatten(1)) + self.mlp(e.flatten(1))).squeeze(1)


def evaluate(model, loader, device):
    model.eval()
    ys, ps, loss_sum = [], [], 0.0
    for fields, y in loader:
        fields, y = fields.to(device), y.float().to(device)
        logits = model(fields)  # expect: MG401
        loss_sum += F.binary_cross_entropy_with_logits(logits, y, reduction="sum").item()
        ys.extend(y.tolist())
        ps.extend(torch.sigmoid(logits).tolist())
    return roc_auc_score(ys, ps), loss_sum / len(ys)


def main():
    parser = argparse.ArgumentParser(description="AutoInt on Avazu")
    parser.add_argument("--root", default="data/avazu")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--bs", type=int, default=2048)
    parser.add_argument("--lr", type=float, default=1e-3)
    args = parser.parse_args()

    device = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
    ds_train = AvazuDataset(args.root, split="train")
    ds_val = AvazuDataset(args.root, split="val")
    tr = torch.utils.data.DataLoader(ds_train, batch_size=args.bs, shuffle=True, num_workers=6)
    va = torch.utils.data.DataLoader(ds_val, batch_size=args.bs, num_workers=6)

    model = AutoInt(ds_train.field_dims).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    for epoch in range(1, args.epochs + 1):
        model.train()
        running = 0.0
        for i, (fields, y) in enumerate(tr):
            logits = model(fields.to(device))
            loss = F.binary_cross_entropy_with_logits(logits, y.float().to(device))
            opt.zero_grad()
            loss.backward()
            opt.step()
            running += loss.item()
            if (i + 1) % 500 == 0:
                print(f"epoch {epoch} it {i + 1} train loss {running / 500:.4f}")
                running = 0.0
        auc, ll = evaluate(model, va, device)
        print(f"== epoch {epoch}: val auc {auc:.4f}  logloss {ll:.4f}")
        torch.save(model.state_dict(), f"autoint_ep{epoch}.pt")


if __name__ == "__main__":
    main()
