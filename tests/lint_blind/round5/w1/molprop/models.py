"""Graph isomorphism network for molecular property regression / classification."""
import torch
from torch import nn
from torch_geometric.nn import GINConv, global_add_pool, global_max_pool


class GINLayer(nn.Module):
    def __init__(self, dim, dropout):
        super().__init__()
        self.conv = GINConv(nn.Sequential(nn.Linear(dim, dim), nn.BatchNorm1d(dim), nn.ReLU(),
                                          nn.Linear(dim, dim)), train_eps=True)
        self.bn = nn.BatchNorm1d(dim)
        self.drop = nn.Dropout(dropout)

    def forward(self, x, edge_index):
        return self.drop(torch.relu(self.bn(self.conv(x, edge_index)))) + x


class PropertyNet(nn.Module):
    def __init__(self, atom_dim, hidden=256, layers=5, n_out=1, dropout=0.2):
        super().__init__()
        self.embed = nn.Linear(atom_dim, hidden)
        self.layers = nn.ModuleList(GINLayer(hidden, dropout) for _ in range(layers))
        self.head = nn.Sequential(
            nn.Linear(2 * hidden, hidden), nn.BatchNorm1d(hidden), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(hidden, n_out),
        )

    def forward(self, batch):
        x = self.embed(batch.x.float())
        for layer in self.layers:
            x = layer(x, batch.edge_index)
        g = torch.cat([global_add_pool(x, batch.batch), global_max_pool(x, batch.batch)], dim=-1)
        return self.head(g)


def make_model(hp):
    return PropertyNet(atom_dim=hp["atom_dim"], hidden=hp.get("hidden", 256),
                       layers=hp.get("layers", 5), n_out=hp.get("n_tasks", 1),
                       dropout=hp.get("dropout", 0.2))
