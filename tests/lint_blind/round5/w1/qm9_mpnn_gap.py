import argparse
import os.path as osp

import torch
import torch.nn.functional as F
from torch import nn
from torch_geometric.datasets import QM9
from torch_geometric.loader import DataLoader
from torch_geometric.nn import NNConv, Set2Set
import torch_geometric.transforms as T

TARGET = 4  # HOMO-LUMO gap (eV)


class SelectTarget:
    def __call__(self, data):
        data.y = data.y[:, TARGET]
        return data


class MPNN(nn.Module):
    def __init__(self, node_in, edge_in, dim=64, steps=3, p_drop=0.1):
        super().__init__()
        self.lin0 = nn.Linear(node_in, dim)
        edge_net = nn.Sequential(nn.Linear(edge_in, 128), nn.ReLU(), nn.Linear(128, dim * dim))
        self.conv = NNConv(dim, dim, edge_net, aggr="mean")
        self.gru = nn.GRU(dim, dim)
        self.norm = nn.BatchNorm1d(dim)
        self.set2set = Set2Set(dim, processing_steps=3)
        self.lin1 = nn.Linear(2 * dim, dim)
        self.lin2 = nn.Linear(dim, 1)
        self.steps = steps
        self.p_drop = p_drop

    def forward(self, data):
        out = F.relu(self.lin0(data.x))
        h = out.unsqueeze(0)
        for _ in range(self.steps):
            m = F.relu(self.conv(out, data.edge_index, data.edge_attr))
            out, h = self.gru(m.unsqueeze(0), h)
            out = out.squeeze(0)
        out = self.norm(out)
        g = self.set2set(out, data.batch)
        g = F.dropout(F.relu(self.lin1(g)), p=self.p_drop, training=self.training)
        return self.lin2(g).view(-1)


def run_epoch(model, loader, opt, device, std):
    model.train()
    total = 0.0
    for data in loader:
        data = data.to(device)
        opt.zero_grad()
        loss = F.mse_loss(model(data), data.y)
        loss.backward()
        opt.step()
        total += loss.item() * data.num_graphs
    return total / len(loader.dataset)


@torch.no_grad()
def mae(model, loader, device, std):
    model.eval()
    err = 0.0
    for data in loader:
        data = data.to(device)
        err += (model(data) * std - data.y * std).abs().sum().item()
    return err / len(loader.dataset)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default=osp.join("data", "QM9"))
    ap.add_argument("--epochs", type=int, default=300)
    args = ap.parse_args()

    transform = T.Compose([SelectTarget(), T.Complete(), T.Distance(norm=False)])
    ds = QM9(args.root, transform=transform).shuffle()
    mean, std = ds.data.y[:, TARGET].mean().item(), ds.data.y[:, TARGET].std().item()
    ds.data.y = (ds.data.y - ds.data.y.mean(0)) / ds.data.y.std(0)

    test_ds, val_ds, train_ds = ds[:10000], ds[10000:20000], ds[20000:]
    train_loader = DataLoader(train_ds, batch_size=128, shuffle=True)
    val_loader = DataLoader(val_ds, batch_size=256)
    test_loader = DataLoader(test_ds, batch_size=256)

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model = MPNN(ds.num_features, ds[0].edge_attr.size(1)).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="min", factor=0.7, patience=5, min_lr=1e-5)

    best_val, test_at_best = None, None
    for epoch in range(1, args.epochs + 1):
        lr = opt.param_groups[0]["lr"]
        loss = run_epoch(model, train_loader, opt, device, std)
        val_err = mae(model, val_loader, device, std)
        sched.step(val_err)
        if best_val is None or val_err <= best_val:
            best_val = val_err
            test_at_best = mae(model, test_loader, device, std)
        print(f"Epoch {epoch:03d} lr {lr:.6f} loss {loss:.5f} val MAE {val_err:.4f} eV "
              f"test MAE {test_at_best:.4f} eV")


if __name__ == "__main__":
    main()
