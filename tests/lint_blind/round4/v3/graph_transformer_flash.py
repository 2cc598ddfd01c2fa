"""Graph transformer for molecular property regression (dense padded batches).

Nodes of each graph are padded to the same length; attention is biased with
shortest-path-distance embeddings computed on the fly inside the layer.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from flash_attn import flash_attn_func
from torch_geometric.utils import to_dense_batch

from mol_featurizer import AtomEncoder


class FlashGraphAttention(nn.Module):
    def __init__(self, hidden, heads=8, attn_dropout=0.1):
        super().__init__()
        assert hidden % heads == 0
        self.h, self.dh = heads, hidden // heads
        self.qkv = nn.Linear(hidden, 3 * hidden, bias=False)
        self.out = nn.Linear(hidden, hidden)
        self.attn_dropout = attn_dropout

    def forward(self, x):
        b, n, _ = x.shape
        q, k, v = self.qkv(x).view(b, n, 3, self.h, self.dh).unbind(2)
        o = flash_attn_func(q.half(), k.half(), v.half(), dropout_p=self.attn_dropout,  # expect: MG202
                            softmax_scale=self.dh ** -0.5, causal=False)
        return self.out(o.reshape(b, n, -1).to(x.dtype))


class GTLayer(nn.Module):
    def __init__(self, hidden, heads, dropout=0.1, attn_dropout=0.1):
        super().__init__()
        self.ln1 = nn.LayerNorm(hidden)
        self.attn = FlashGraphAttention(hidden, heads, attn_dropout)
        self.ln2 = nn.LayerNorm(hidden)
        self.ffn = nn.Sequential(nn.Linear(hidden, 2 * hidden), nn.GELU(), nn.Linear(2 * hidden, hidden))
        self.p = dropout

    def forward(self, x, mask):
        h = self.attn(self.ln1(x))
        x = x + F.dropout(h, self.p, training=self.training)
        x = x + F.dropout(self.ffn(self.ln2(x)), self.p, training=self.training)
        return x * mask.unsqueeze(-1)


class GraphTransformer(nn.Module):
    def __init__(self, hidden=256, layers=6, heads=8):
        super().__init__()
        self.atom_enc = AtomEncoder(hidden)
        self.layers = nn.ModuleList([GTLayer(hidden, heads) for _ in range(layers)])
        self.readout = nn.Sequential(nn.LayerNorm(hidden), nn.Linear(hidden, 1))

    def forward(self, batch):
        h = self.atom_enc(batch.x)
        h, mask = to_dense_batch(h, batch.batch)
        for layer in self.layers:
            h = layer(h, mask)
        pooled = (h * mask.unsqueeze(-1)).sum(1) / mask.sum(1, keepdim=True)
        return self.readout(pooled).squeeze(-1)


def run_epoch(model, loader, optimizer=None, device="cuda"):
    training = optimizer is not None
    model.train(training)
    total, count = 0.0, 0
    with torch.set_grad_enabled(training):
        for batch in loader:
            batch = batch.to(device)
            pred = model(batch)
            loss = F.l1_loss(pred, batch.y.view(-1))
            if training:
                optimizer.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
                optimizer.step()
            total += loss.item() * batch.num_graphs
            count += batch.num_graphs
    return total / count


def fit(train_loader, val_loader, epochs=300):
    model = GraphTransformer().cuda()
    opt = torch.optim.AdamW(model.parameters(), lr=2e-4, weight_decay=0.01)
    best = float("inf")
    for epoch in range(epochs):
        tr = run_epoch(model, train_loader, opt)
        va = run_epoch(model, val_loader)
        if va < best:
            best = va
            torch.save(model.state_dict(), "gt_best.pt")
        print(f"{epoch:4d} train MAE {tr:.4f} val MAE {va:.4f}")
