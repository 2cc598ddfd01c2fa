"""Node-classification backbones for ogbn-products style graphs."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch_geometric.nn import SAGEConv
from torch_geometric.utils import softmax as edge_softmax
from tqdm import tqdm


class SAGE(nn.Module):
    def __init__(self, in_dim, hidden, out_dim, num_layers=3, dropout=0.5):
        super().__init__()
        self.convs = nn.ModuleList()
        self.bns = nn.ModuleList()
        dims = [in_dim] + [hidden] * (num_layers - 1) + [out_dim]
        for i in range(num_layers):
            self.convs.append(SAGEConv(dims[i], dims[i + 1]))
            if i < num_layers - 1:
                self.bns.append(nn.BatchNorm1d(dims[i + 1]))
        self.dropout = dropout

    def forward(self, x, adjs):
        # adjs: list of (edge_index, e_id, size) from NeighborSampler, outermost hop first
        for i, (edge_index, _, size) in enumerate(adjs):
            x_target = x[: size[1]]
            x = self.convs[i]((x, x_target), edge_index)
            if i != len(self.convs) - 1:
                x = F.relu(self.bns[i](x))
                x = F.dropout(x, p=self.dropout, training=self.training)
        return x

    def inference(self, x_all, subgraph_loader, device):
        """Layer-wise full-neighbourhood inference; the caller sets eval()/no_grad()."""
        for i, conv in enumerate(self.convs):
            out = []
            for batch_size, n_id, adj in tqdm(subgraph_loader, desc=f"layer {i}", leave=False):
                edge_index, _, size = adj.to(device)
                x = x_all[n_id].to(device)
                x = conv((x, x[: size[1]]), edge_index)
                if i != len(self.convs) - 1:
                    x = F.relu(self.bns[i](x))
                out.append(x.cpu())
            x_all = torch.cat(out, dim=0)
        return x_all


class EdgeAttentionConv(nn.Module):
    """Single-head GAT-style layer with edge features (used for the ogbn-proteins runs)."""

    def __init__(self, in_dim, out_dim, edge_dim, att_dropout=0.1, negative_slope=0.2):
        super().__init__()
        self.lin = nn.Linear(in_dim, out_dim, bias=False)
        self.lin_edge = nn.Linear(edge_dim, out_dim, bias=False)
        self.att_src = nn.Parameter(torch.empty(out_dim))
        self.att_dst = nn.Parameter(torch.empty(out_dim))
        self.att_edge = nn.Parameter(torch.empty(out_dim))
        for p in (self.att_src, self.att_dst, self.att_edge):
            nn.init.normal_(p, std=out_dim ** -0.5)
        self.att_dropout = att_dropout
        self.negative_slope = negative_slope

    def forward(self, x, edge_index, edge_attr):
        src, dst = edge_index
        h = self.lin(x)
        e = self.lin_edge(edge_attr)
        logits = (h[src] * self.att_src).sum(-1) + (h[dst] * self.att_dst).sum(-1) + (e * self.att_edge).sum(-1)
        alpha = edge_softmax(F.leaky_relu(logits, self.negative_slope), dst, num_nodes=x.size(0))
        alpha = F.dropout(alpha, p=self.att_dropout)  # expect: MG201
        msg = (h[src] + e) * alpha.unsqueeze(-1)
        out = torch.zeros_like(h).index_add_(0, dst, msg)
        return out


class EdgeGAT(nn.Module):
    def __init__(self, in_dim, hidden, out_dim, edge_dim, num_layers=3, dropout=0.25, att_dropout=0.1):
        super().__init__()
        dims = [in_dim] + [hidden] * (num_layers - 1) + [out_dim]
        self.layers = nn.ModuleList(
            [EdgeAttentionConv(dims[i], dims[i + 1], edge_dim, att_dropout) for i in range(num_layers)]
        )
        self.norms = nn.ModuleList([nn.BatchNorm1d(hidden) for _ in range(num_layers - 1)])
        self.drop = nn.Dropout(dropout)

    def forward(self, x, edge_index, edge_attr):
        for i, layer in enumerate(self.layers):
            x = layer(x, edge_index, edge_attr)
            if i < len(self.layers) - 1:
                x = self.drop(F.elu(self.norms[i](x)))
        return x
