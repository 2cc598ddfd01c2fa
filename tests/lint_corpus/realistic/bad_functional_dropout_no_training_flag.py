"""Sentence encoder with dynamic meta-embeddings; dropout through the functional API."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class MetaEmbedder(nn.Module):
    def __init__(self, args, embedders):
        super().__init__()
        self.args = args
        self.embedders = nn.ModuleList(embedders)
        self.attn = nn.Linear(args.emb_dim, 1)

    def forward(self, words):
        embs = torch.stack([e(words) for e in self.embedders], dim=2)
        weights = torch.softmax(self.attn(embs), dim=2)
        out = (weights * embs).sum(dim=2)
        out = F.dropout(out, p=self.args.emb_dropout)  # expect: MG201
        return out


class FMAttention(nn.Module):
    def __init__(self, embed_dim, attn_size):
        super().__init__()
        self.attention = nn.Linear(embed_dim, attn_size)
        self.projection = nn.Linear(attn_size, 1)

    def forward(self, inner_product):
        attn_scores = F.relu(self.attention(inner_product))
        attn_scores = F.softmax(self.projection(attn_scores), dim=1)
        attn_scores = F.dropout(attn_scores, p=0.1)  # expect: MG201
        return (attn_scores * inner_product).sum(dim=1)


class SimpleNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 64, 3)

    def forward(self, x):
        out = self.conv(x)
        out = F.dropout2d(out, 0.1, training=True)  # expect: MG201
        return out
