"""Behavior Sequence Transformer (BST) for next-click CTR prediction.

The user's last N clicked items plus the target item go through one transformer layer;
the pooled output is concatenated with profile features and fed to an MLP.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


class SeqSelfAttention(nn.Module):
    def __init__(self, dim, n_heads=8, attn_dropout=0.1):
        super().__init__()
        self.n_heads = n_heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.out = nn.Linear(dim, dim)
        self.attn_dropout = attn_dropout

    def forward(self, x, pad_mask):
        b, t, d = x.shape
        q, k, v = self.qkv(x).split(d, dim=-1)
        q, k, v = (z.view(b, t, self.n_heads, d // self.n_heads).transpose(1, 2) for z in (q, k, v))
        keep = ~pad_mask[:, None, None, :]  # True where attention is allowed
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=keep, dropout_p=self.attn_dropout)  # expect: MG202
        return self.out(y.transpose(1, 2).reshape(b, t, d))


class BSTLayer(nn.Module):
    def __init__(self, dim, n_heads, dropout):
        super().__init__()
        self.attn = SeqSelfAttention(dim, n_heads, dropout)
        self.ln1 = nn.LayerNorm(dim)
        self.ffn = nn.Sequential(nn.Linear(dim, 4 * dim), nn.LeakyReLU(), nn.Dropout(dropout),
                                 nn.Linear(4 * dim, dim))
        self.ln2 = nn.LayerNorm(dim)
        self.drop = nn.Dropout(dropout)

    def forward(self, x, pad_mask):
        x = self.ln1(x + self.drop(self.attn(x, pad_mask)))
        return self.ln2(x + self.drop(self.ffn(x)))


class BST(nn.Module):
    def __init__(self, n_items, n_cats, profile_dims, dim=64, seq_len=20, n_heads=8, dropout=0.2):
        super().__init__()
        self.item_emb = nn.Embedding(n_items, dim - 16, padding_idx=0)
        self.cat_emb = nn.Embedding(n_cats, 16, padding_idx=0)
        self.pos_emb = nn.Embedding(seq_len + 1, dim)
        self.layer = BSTLayer(dim, n_heads, dropout)
        self.profile = nn.ModuleList([nn.Embedding(n, 8) for n in profile_dims])
        in_dim = dim * (seq_len + 1) + 8 * len(profile_dims)
        self.mlp = nn.Sequential(
            nn.Linear(in_dim, 1024), nn.LeakyReLU(), nn.Dropout(dropout),
            nn.Linear(1024, 512), nn.LeakyReLU(), nn.Dropout(dropout),
            nn.Linear(512, 256), nn.LeakyReLU(),
            nn.Linear(256, 1))

    def forward(self, hist_items, hist_cats, target_item, target_cat, profile):
        items = torch.cat([hist_items, target_item[:, None]], dim=1)
        cats = torch.cat([hist_cats, target_cat[:, None]], dim=1)
        pos = torch.arange(items.size(1), device=items.device)
        seq = torch.cat([self.item_emb(items), self.cat_emb(cats)], dim=-1) + self.pos_emb(pos)
        seq = self.layer(seq, pad_mask=items.eq(0))
        prof = torch.cat([emb(profile[:, i]) for i, emb in enumerate(self.profile)], dim=-1)
        return self.mlp(torch.cat([seq.flatten(1), prof], dim=-1)).squeeze(-1)


def train_bst(model, train_loader, val_loader, epochs=3, lr=1e-3, device="cuda"):
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-5)
    for epoch in range(epochs):
        model.train()
        for batch in train_loader:
            batch = {k: v.to(device) for k, v in batch.items()}
            label = batch.pop("click").float()
            loss = F.binary_cross_entropy_with_logits(model(**batch), label)
            opt.zero_grad()
            loss.backward()
            opt.step()

        model.eval()
        tot, n = 0.0, 0
        with torch.no_grad():
            for batch in val_loader:
                batch = {k: v.to(device) for k, v in batch.items()}
                label = batch.pop("click").float()
                tot += F.binary_cross_entropy_with_logits(model(**batch), label, reduction="sum").item()
                n += label.numel()
        print(f"epoch {epoch}: val logloss {tot / n:.5f}")
    return model
