"""GraphSAGE with neighbour sampling on ogbn-products; full-graph layer-wise inference."""
import argparse

import torch
import torch.nn.functional as F
from ogb.nodeproppred import Evaluator, PygNodePropPredDataset
from torch import nn
from torch_geometric.loader import NeighborLoader
from torch_geometric.nn import SAGEConv
from tqdm import tqdm


class SAGE(nn.Module):
    def __init__(self, c_in, c_hid, c_out, num_layers=3, dropout=0.5):
        super().__init__()
        self.convs = nn.ModuleList()
        self.norms = nn.ModuleList()
        dims = [c_in] + [c_hid] * (num_layers - 1) + [c_out]
        for i in range(num_layers):
            self.convs.append(SAGEConv(dims[i], dims[i + 1]))
            if i < num_layers - 1:
                self.norms.append(nn.BatchNorm1d(dims[i + 1]))
        self.dropout = dropout

    def forward(self, x, edge_index):
        for i, conv in enumerate(self.convs):
            x = conv(x, edge_index)
            if i < len(self.convs) - 1:
                x = F.relu(self.norms[i](x))
                x = F.dropout(x, p=self.dropout, training=self.training)
        return x

    @torch.no_grad()
    def inference(self, x_all, subgraph_loader, device):
        """Layer-by-layer over all nodes; the caller must put the model in eval mode."""
        for i, conv in enumerate(self.convs):
            xs = []
            for batch in subgraph_loader:
                x = x_all[batch.n_id.to(x_all.device)].to(device)
                x = conv(x, batch.edge_index.to(device))[: batch.batch_size]
                if i < len(self.convs) - 1:
                    x = F.relu(self.norms[i](x))
                xs.append(x.cpu())
            x_all = torch.cat(xs, dim=0)
        return x_all


def train_epoch(model, loader, optimizer, device):
    model.train()
    total_loss = total_correct = total = 0
    for batch in tqdm(loader, leave=False):
        batch = batch.to(device)
        optimizer.zero_grad()
        out = model(batch.x, batch.edge_index)[: batch.batch_size]
        y = batch.y[: batch.batch_size].squeeze(1)
        loss = F.cross_entropy(out, y)
        loss.backward()
        optimizer.step()
        total_loss += float(loss) * batch.batch_size
        total_correct += int((out.argmax(-1) == y).sum())
        total += batch.batch_size
    return total_loss / total, total_correct / total


@torch.no_grad()
def test(model, data, split_idx, subgraph_loader, evaluator, device):
    model.eval()
    out = model.inference(data.x, subgraph_loader, device)
    y_pred = out.argmax(dim=-1, keepdim=True)
    return [evaluator.eval({"y_true": data.y[split_idx[s]], "y_pred": y_pred[split_idx[s]]})["acc"]
            for s in ("train", "valid", "test")]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default="data/ogb")
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--eval_every", type=int, default=5)
    args = ap.parse_args()

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dataset = PygNodePropPredDataset("ogbn-products", root=args.root)
    split_idx = dataset.get_idx_split()
    data = dataset[0]
    evaluator = Evaluator("ogbn-products")

    train_loader = NeighborLoader(data, input_nodes=split_idx["train"], num_neighbors=[15, 10, 5],
                                  batch_size=1024, shuffle=True, num_workers=6)
    subgraph_loader = NeighborLoader(data, input_nodes=None, num_neighbors=[-1], batch_size=4096,
                                     num_workers=6)

    model = SAGE(dataset.num_features, args.hidden, dataset.num_classes).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)

    best_val = final_test = 0.0
    for epoch in range(1, args.epochs + 1):
        loss, approx_acc = train_epoch(model, train_loader, optimizer, device)
        print(f"epoch {epoch:02d} loss {loss:.4f} approx train acc {approx_acc:.4f}")
        if epoch % args.eval_every == 0:
            tr, va, te = test(model, data, split_idx, subgraph_loader, evaluator, device)
            if va > best_val:
                best_val, final_test = va, te
            print(f"  train {tr:.4f} valid {va:.4f} test {te:.4f}")
    print(f"valid {best_val:.4f} -> test {final_test:.4f}")


if __name__ == "__main__":
    main()
