import argparse
import os.path as osp

import torch
import torch.nn.functional as F
from torch_geometric.datasets import Planetoid
import torch_geometric.transforms as T
from torch_geometric.nn import GCNConv

parser = argparse.ArgumentParser()
parser.add_argument("--dataset", type=str, default="Cora")
parser.add_argument("--hidden", type=int, default=16)
parser.add_argument("--dropout", type=float, default=0.5)
parser.add_argument("--lr", type=float, default=0.01)
parser.add_argument("--epochs", type=int, default=200)
parser.add_argument("--patience", type=int, default=50)
args = parser.parse_args()

path = osp.join(osp.dirname(osp.realpath(__file__)), "data", args.dataset)
dataset = Planetoid(path, args.dataset, transform=T.NormalizeFeatures())
data = dataset[0]


class GCN(torch.nn.Module):
    def __init__(self, in_channels, hidden_channels, out_channels, p):
        super().__init__()
        self.conv1 = GCNConv(in_channels, hidden_channels, cached=True, normalize=True)
        self.conv2 = GCNConv(hidden_channels, out_channels, cached=True, normalize=True)
        self.p = p

    def forward(self, x, edge_index, edge_weight=None):
        x = F.dropout(x, p=self.p, training=self.training)
        x = self.conv1(x, edge_index, edge_weight).relu()
        x = F.dropout(x, self.p)  # expect: MG201
        return self.conv2(x, edge_index, edge_weight)


device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
model = GCN(dataset.num_features, args.hidden, dataset.num_classes, args.dropout).to(device)
data = data.to(device)
optimizer = torch.optim.Adam([
    dict(params=model.conv1.parameters(), weight_decay=5e-4),
    dict(params=model.conv2.parameters(), weight_decay=0),
], lr=args.lr)


def train_step():
    model.train()
    optimizer.zero_grad()
    out = model(data.x, data.edge_index, data.edge_attr)
    loss = F.cross_entropy(out[data.train_mask], data.y[data.train_mask])
    loss.backward()
    optimizer.step()
    return float(loss)


def evaluate():
    model.eval()
    logits = model(data.x, data.edge_index, data.edge_attr)  # expect: MG401
    pred = logits.argmax(dim=-1)
    accs, losses = [], []
    for mask in (data.train_mask, data.val_mask, data.test_mask):
        accs.append(int((pred[mask] == data.y[mask]).sum()) / int(mask.sum()))
        losses.append(float(F.cross_entropy(logits[mask], data.y[mask])))
    return accs, losses


best_val_loss, best_test, bad_epochs = float("inf"), 0.0, 0
for epoch in range(1, args.epochs + 1):
    loss = train_step()
    (train_acc, val_acc, test_acc), (_, val_loss, _) = evaluate()
    if val_loss < best_val_loss:
        best_val_loss, best_test, bad_epochs = val_loss, test_acc, 0
    else:
        bad_epochs += 1
    print(f"Epoch {epoch:03d} loss {loss:.4f} train {train_acc:.4f} val {val_acc:.4f} test {test_acc:.4f}")
    if bad_epochs >= args.patience:
        break
print(f"test accuracy at best validation loss: {best_test:.4f}")
