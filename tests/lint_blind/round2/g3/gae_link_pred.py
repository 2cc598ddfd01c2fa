import argparse
import os.path as osp

import torch
import torch.nn.functional as F
from sklearn.metrics import average_precision_score, roc_auc_score
from torch_geometric.datasets import Planetoid
import torch_geometric.transforms as T
from torch_geometric.nn import GCNConv
from torch_geometric.utils import negative_sampling

parser = argparse.ArgumentParser(description="GAE / link prediction")
parser.add_argument("--dataset", default="CiteSeer")
parser.add_argument("--hidden", type=int, default=256)
parser.add_argument("--latent", type=int, default=64)
parser.add_argument("--dropout", type=float, default=0.3)
parser.add_argument("--epochs", type=int, default=400)
parser.add_argument("--eval_steps", type=int, default=10)
parser.add_argument("--lr", type=float, default=0.01)
args = parser.parse_args()

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
split = T.RandomLinkSplit(num_val=0.05, num_test=0.1, is_undirected=True,
                          add_negative_train_samples=False, split_labels=True)
path = osp.join(osp.dirname(osp.realpath(__file__)), "..", "data", "Planetoid")
dataset = Planetoid(path, args.dataset, transform=T.Compose([T.NormalizeFeatures(), T.ToDevice(device), split]))
train_data, val_data, test_data = dataset[0]


class Encoder(torch.nn.Module):
    def __init__(self, c_in, c_hidden, c_out, p):
        super().__init__()
        self.conv1 = GCNConv(c_in, c_hidden)
        self.bn = torch.nn.BatchNorm1d(c_hidden)
        self.conv2 = GCNConv(c_hidden, c_out)
        self.p = p

    def forward(self, x, edge_index):
        h = F.relu(self.bn(self.conv1(x, edge_index)))
        h = F.dropout(h, p=self.p, training=self.training)
        return self.conv2(h, edge_index)


class InnerProduct(torch.nn.Module):
    def forward(self, z, edge_label_index):
        return (z[edge_label_index[0]] * z[edge_label_index[1]]).sum(-1)


encoder = Encoder(dataset.num_features, args.hidden, args.latent, args.dropout).to(device)
decoder = InnerProduct()
optimizer = torch.optim.Adam(encoder.parameters(), lr=args.lr)


@torch.no_grad()
def link_scores(data):
    encoder.eval()  # expect: MG101
    z = encoder(data.x, data.edge_index)
    pos = decoder(z, data.pos_edge_label_index).sigmoid()
    neg = decoder(z, data.neg_edge_label_index).sigmoid()
    y = torch.cat([torch.ones_like(pos), torch.zeros_like(neg)]).cpu()
    s = torch.cat([pos, neg]).cpu()
    return roc_auc_score(y, s), average_precision_score(y, s)


best_val, final_test = 0.0, (0.0, 0.0)
encoder.train()
for epoch in range(1, args.epochs + 1):
    optimizer.zero_grad()
    z = encoder(train_data.x, train_data.edge_index)
    pos_idx = train_data.pos_edge_label_index
    neg_idx = negative_sampling(train_data.edge_index, num_nodes=train_data.num_nodes,
                                num_neg_samples=pos_idx.size(1))
    pos_out, neg_out = decoder(z, pos_idx), decoder(z, neg_idx)
    loss = F.binary_cross_entropy_with_logits(pos_out, torch.ones_like(pos_out)) + \
        F.binary_cross_entropy_with_logits(neg_out, torch.zeros_like(neg_out))
    loss.backward()
    optimizer.step()

    if epoch % args.eval_steps == 0:
        val_auc, val_ap = link_scores(val_data)
        if val_auc > best_val:
            best_val = val_auc
            final_test = link_scores(test_data)
        print(f"Epoch {epoch:03d} | loss {loss.item():.4f} | val AUC {val_auc:.4f} AP {val_ap:.4f}")

print(f"best val AUC {best_val:.4f} -> test AUC {final_test[0]:.4f} AP {final_test[1]:.4f}")
