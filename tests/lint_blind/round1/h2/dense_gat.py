"""Dense graph attention network for the Cora / Citeseer transductive splits.

Adjacency is a (N, N) 0/1 matrix with self loops; the graphs are small enough
that we never need sparse kernels.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


class GraphAttentionLayer(nn.Module):
    def __init__(self, in_features, out_features, n_heads=8, attn_drop=0.6, alpha=0.2, concat=True):
        super().__init__()
        self.n_heads = n_heads
        self.out_features = out_features
        self.concat = concat
        self.attn_drop = attn_drop
        self.W = nn.Parameter(torch.empty(n_heads, in_features, out_features))
        self.a_src = nn.Parameter(torch.empty(n_heads, out_features, 1))
        self.a_dst = nn.Parameter(torch.empty(n_heads, out_features, 1))
        self.leaky = nn.LeakyReLU(alpha)
        self.bias = nn.Parameter(torch.zeros(n_heads * out_features if concat else out_features))
        self.reset_parameters()

    def reset_parameters(self):
        for w in (self.W, self.a_src, self.a_dst):
            nn.init.xavier_uniform_(w, gain=1.414)

    def forward(self, h, adj):
        # h: (N, F_in) -> Wh: (heads, N, F_out)
        Wh = torch.einsum("nf,hfo->hno", h, self.W)
        e_src = Wh @ self.a_src           # (heads, N, 1)
        e_dst = Wh @ self.a_dst           # (heads, N, 1)
        e = self.leaky(e_src + e_dst.transpose(1, 2))
        e = e.masked_fill(adj.unsqueeze(0) == 0, float("-inf"))
        alpha = torch.softmax(e, dim=-1)
        alpha = F.dropout(alpha, p=self.attn_drop, training=True)  # expect: MG201
        out = alpha @ Wh                  # (heads, N, F_out)
        if self.concat:
            out = out.transpose(0, 1).reshape(h.size(0), -1)
        else:
            out = out.mean(dim=0)
        return out + self.bias


class GAT(nn.Module):
    def __init__(self, n_feat, n_hid, n_class, heads=8, out_heads=1, in_drop=0.6, feat_drop=0.6, attn_drop=0.6):
        super().__init__()
        self.in_drop = in_drop
        self.feat_drop = feat_drop
        self.layer1 = GraphAttentionLayer(n_feat, n_hid, n_heads=heads, attn_drop=attn_drop, concat=True)
        self.layer2 = GraphAttentionLayer(n_hid * heads, n_class, n_heads=out_heads, attn_drop=attn_drop,
                                          concat=False)

    def forward(self, x, adj):
        x = F.dropout(x, self.in_drop, training=self.training)
        h = F.elu(self.layer1(x, adj))
        h = F.dropout(h, self.feat_drop)  # expect: MG201
        return self.layer2(h, adj)


def normalize_features(x):
    rowsum = x.sum(1, keepdim=True).clamp(min=1.0)
    return x / rowsum


def build_dense_adj(edge_index, num_nodes, device=None):
    adj = torch.zeros(num_nodes, num_nodes, device=device)
    adj[edge_index[0], edge_index[1]] = 1.0
    adj = ((adj + adj.t()) > 0).float()
    adj.fill_diagonal_(1.0)
    return adj


def masked_accuracy(logits, labels, mask):
    pred = logits[mask].argmax(dim=1)
    return (pred == labels[mask]).float().mean().item()
