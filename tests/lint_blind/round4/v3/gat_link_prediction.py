import argparse

import torch
import torch.nn.functional as F
from sklearn.metrics import roc_auc_score
from torch_geometric.datasets import Planetoid
from torch_geometric.nn import GATConv
from torch_geometric.transforms import Compose, NormalizeFeatures, RandomLinkSplit, ToDevice
from torch_geometric.utils import negative_sampling


class GATEncoder(torch.nn.Module):
    def __init__(self, in_dim, hid=64, out=64, heads=4, feat_drop=0.6, attn_drop=0.6):
        super().__init__()
        self.feat_drop = feat_drop
        self.gat1 = GATConv(in_dim, hid, heads=heads, dropout=attn_drop)
        self.gat2 = GATConv(hid * heads, out, heads=1, concat=False, dropout=attn_drop)

    def forward(self, x, edge_index):
        x = F.dropout(x, p=self.feat_drop, training=self.training)
        x = F.elu(self.gat1(x, edge_index))
        x = F.dropout(x, p=self.feat_drop, training=self.training)
        return self.gat2(x, edge_index)


def dot_decoder(z, pairs):
    return (z[pairs[0]] * z[pairs[1]]).sum(-1)


def train_epoch(enc, opt, data):
    enc.train()
    opt.zero_grad()
    z = enc(data.x, data.edge_index)
    neg = negative_sampling(data.edge_index, num_nodes=data.num_nodes,
                            num_neg_samples=data.edge_label_index.size(1), method="sparse")
    pairs = torch.cat([data.edge_label_index, neg], dim=-1)
    labels = torch.cat([data.edge_label, data.edge_label.new_zeros(neg.size(1))])
    loss = F.binary_cross_entropy_with_logits(dot_decoder(z, pairs), labels)
    loss.backward()
    opt.step()
    return loss.item()


@torch.no_grad()
def auc(enc, data):
    enc.eval()
    z = enc(data.x, data.edge_index)
    scores = dot_decoder(z, data.edge_label_index).sigmoid()
    return roc_auc_score(data.edge_label.cpu().numpy(), scores.cpu().numpy())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", default="CiteSeer")
    ap.add_argument("--epochs", type=int, default=300)
    args = ap.parse_args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    transform = Compose([NormalizeFeatures(), ToDevice(device),
                         RandomLinkSplit(num_val=0.05, num_test=0.1, is_undirected=True,
                                         add_negative_train_samples=False)])
    ds = Planetoid("data", args.dataset, transform=transform)
    train_data, val_data, test_data = ds[0]

    enc = GATEncoder(ds.num_features).to(device)
    opt = torch.optim.Adam(enc.parameters(), lr=5e-3, weight_decay=5e-4)
    best_val, final_test = 0.0, 0.0
    for epoch in range(1, args.epochs + 1):
        loss = train_epoch(enc, opt, train_data)
        if epoch % 10 == 0:
            val, test = auc(enc, val_data), auc(enc, test_data)
            if val > best_val:
                best_val, final_test = val, test
            print(f"epoch {epoch:03d} loss {loss:.4f} val AUC {val:.4f} test AUC {test:.4f}")
    print(f"final test AUC {final_test:.4f}")


if __name__ == "__main__":
    main()
