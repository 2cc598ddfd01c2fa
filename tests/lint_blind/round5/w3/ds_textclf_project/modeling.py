"""A small pre-LN transformer encoder for document classification."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class WordDropout(nn.Module):
    """Replaces whole tokens by <unk> with probability p, only while training."""

    def __init__(self, p, unk_id):
        super().__init__()
        self.p, self.unk_id = p, unk_id

    def forward(self, ids, pad_mask):
        if not self.training or self.p == 0:
            return ids
        drop = (torch.rand_like(ids, dtype=torch.float) < self.p) & ~pad_mask
        return ids.masked_fill(drop, self.unk_id)


class EncoderLayer(nn.Module):
    def __init__(self, d_model, n_heads, attn_dropout=0.1, dropout=0.1):
        super().__init__()
        self.n_heads = n_heads
        self.ln1, self.ln2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.o = nn.Linear(d_model, d_model)
        self.ff1, self.ff2 = nn.Linear(d_model, 4 * d_model), nn.Linear(4 * d_model, d_model)
        self.attn_dropout, self.dropout = attn_dropout, dropout

    def forward(self, x, attn_bias):
        b, t, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).view(b, t, 3, self.n_heads, d // self.n_heads).unbind(2)
        q, k, v = (z.transpose(1, 2) for z in (q, k, v))
        a = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_bias,
                                           dropout_p=self.attn_dropout if self.training else 0.0)
        a = self.o(a.transpose(1, 2).reshape(b, t, d))
        x = x + F.dropout(a, self.dropout, training=self.training)
        h = self.ff2(F.gelu(self.ff1(self.ln2(x))))
        return x + F.dropout(h, self.dropout, training=self.training)


class DocClassifier(nn.Module):
    def __init__(self, vocab_size, num_classes, d_model=512, n_heads=8, n_layers=6, max_len=1024,
                 pad_id=0, unk_id=1, word_dropout=0.05):
        super().__init__()
        self.pad_id = pad_id
        self.word_drop = WordDropout(word_dropout, unk_id)
        self.tok = nn.Embedding(vocab_size, d_model, padding_idx=pad_id)
        self.pos = nn.Parameter(torch.randn(1, max_len, d_model) / math.sqrt(d_model))
        self.layers = nn.ModuleList([EncoderLayer(d_model, n_heads) for _ in range(n_layers)])
        self.ln_f = nn.LayerNorm(d_model)
        self.cls = nn.Linear(d_model, num_classes)

    def forward(self, ids):
        pad_mask = ids.eq(self.pad_id)
        ids = self.word_drop(ids, pad_mask)
        x = self.tok(ids) + self.pos[:, : ids.size(1)]
        bias = torch.zeros(pad_mask.shape, dtype=x.dtype, device=x.device).masked_fill(pad_mask, float("-inf"))
        bias = bias[:, None, None, :]
        for layer in self.layers:
            x = layer(x, bias)
        x = self.ln_f(x)
        keep = (~pad_mask).unsqueeze(-1).to(x.dtype)
        return self.cls((x * keep).sum(1) / keep.sum(1).clamp(min=1.0))
