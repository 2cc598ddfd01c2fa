"""GIN-virtual-node baseline for molecular property prediction (ogbg-molhiv)."""
import argparse

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from ogb.graphproppred import PygGraphPropPredDataset, Evaluator
from ogb.graphproppred.mol_encoder import AtomEncoder, BondEncoder
from torch_geometric.loader import DataLoader
from torch_geometric.nn import MessagePassing, global_mean_pool


class GINConv(MessagePassing):
    def __init__(self, dim):
        super().__init__(aggr="add")
        self.mlp = nn.Sequential(nn.Linear(dim, 2 * dim), nn.BatchNorm1d(2 * dim), nn.ReLU(), nn.Linear(2 * dim, dim))
        self.eps = nn.Parameter(torch.zeros(1))
        self.bond = BondEncoder(dim)

    def forward(self, x, edge_index, edge_attr):
        return self.mlp((1 + self.eps) * x + self.propagate(edge_index, x=x, edge_attr=self.bond(edge_attr)))

    def message(self, x_j, edge_attr):
        return F.relu(x_j + edge_attr)


class GINVirtual(nn.Module):
    def __init__(self, num_tasks=1, dim=300, layers=5, drop=0.5):
        super().__init__()
        self.atom = AtomEncoder(dim)
        self.convs = nn.ModuleList([GINConv(dim) for _ in range(layers)])
        self.bns = nn.ModuleList([nn.BatchNorm1d(dim) for _ in range(layers)])
        self.vn_emb = nn.Embedding(1, dim)
        nn.init.zeros_(self.vn_emb.weight)
        self.vn_mlps = nn.ModuleList([
            nn.Sequential(nn.Linear(dim, 2 * dim), nn.BatchNorm1d(2 * dim), nn.ReLU(),
                          nn.Linear(2 * dim, dim), nn.BatchNorm1d(dim), nn.ReLU())
            for _ in range(layers - 1)])
        self.drop = drop
        self.head = nn.Linear(dim, num_tasks)

    def forward(self, data):
        vn = self.vn_emb(torch.zeros(int(data.batch.max()) + 1, dtype=torch.long, device=data.x.device))
        h = self.atom(data.x)
        for i, conv in enumerate(self.convs):
            h = h + vn[data.batch]
            h = self.bns[i](conv(h, data.edge_index, data.edge_attr))
            if i < len(self.convs) - 1:
                h = F.relu(h)
            h = F.dropout(h, self.drop, training=self.training)
            if i < len(self.vn_mlps):
                vn = F.dropout(self.vn_mlps[i](global_mean_pool(h, data.batch) + vn), self.drop, training=self.training)
        return self.head(global_mean_pool(h, data.batch))


@torch.no_grad()
def evaluate(model, loader, evaluator, device):
    model.train(False)  # expect: MG101
    y_true, y_pred = [], []
    for batch in loader:
        batch = batch.to(device)
        y_pred.append(model(batch).cpu())
        y_true.append(batch.y.view(-1, 1).cpu())
    return evaluator.eval({"y_true": torch.cat(y_true).numpy(), "y_pred": torch.cat(y_pred).numpy()})["rocauc"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--bs", type=int, default=32)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.manual_seed(args.seed)

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    ds = PygGraphPropPredDataset("ogbg-molhiv", root="data")
    split = ds.get_idx_split()
    evaluator = Evaluator("ogbg-molhiv")
    train_loader = DataLoader(ds[split["train"]], batch_size=args.bs, shuffle=True, num_workers=4)
    valid_loader = DataLoader(ds[split["valid"]], batch_size=256)
    test_loader = DataLoader(ds[split["test"]], batch_size=256)

    model = GINVirtual(num_tasks=ds.num_tasks).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    best_val, best_test = 0.0, 0.0
    model.train()
    for epoch in range(1, args.epochs + 1):
        losses = []
        for batch in train_loader:
            batch = batch.to(device)
            if batch.x.shape[0] == 1:
                continue
            out = model(batch)
            is_labeled = batch.y == batch.y
            loss = F.binary_cross_entropy_with_logits(out[is_labeled], batch.y.float()[is_labeled])
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        val_auc = evaluate(model, valid_loader, evaluator, device)
        test_auc = evaluate(model, test_loader, evaluator, device)
        if val_auc > best_val:
            best_val, best_test = val_auc, test_auc
        print(f"epoch {epoch:3d} loss {np.mean(losses):.4f} valid {val_auc:.4f} test {test_auc:.4f}")
    print(f"best valid {best_val:.4f} -> test {best_test:.4f}")


if __name__ == "__main__":
    main()
