"""Encoder-decoder transformer for long-horizon multivariate forecasting.

A trimmed-down Informer: full attention through SDPA (the ProbSparse sampling
did not help on our data), distilling conv layers between encoder blocks and a
generative-style decoder that predicts the whole horizon in one shot.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class TimeFeatureEmbedding(nn.Module):
    def __init__(self, c_in, d_model, n_time_feats=4, dropout=0.05):
        super().__init__()
        self.value = nn.Conv1d(c_in, d_model, 3, padding=1, padding_mode="circular", bias=False)
        self.temporal = nn.Linear(n_time_feats, d_model, bias=False)
        pe = torch.zeros(5000, d_model)
        pos = torch.arange(5000).unsqueeze(1)
        div = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
        pe[:, 0::2], pe[:, 1::2] = torch.sin(pos * div), torch.cos(pos * div)
        self.register_buffer("pe", pe.unsqueeze(0), persistent=False)
        self.p = dropout

    def forward(self, x, x_mark):
        h = self.value(x.transpose(1, 2)).transpose(1, 2) + self.temporal(x_mark) + self.pe[:, : x.size(1)]
        return F.dropout(h, self.p, training=self.training)


class MultiHeadAttention(nn.Module):
    def __init__(self, d_model, n_heads, attn_dropout=0.05, causal=False):
        super().__init__()
        self.h = n_heads
        self.q = nn.Linear(d_model, d_model)
        self.k = nn.Linear(d_model, d_model)
        self.v = nn.Linear(d_model, d_model)
        self.o = nn.Linear(d_model, d_model)
        self.attn_dropout = attn_dropout
        self.causal = causal

    def forward(self, x_q, x_kv):
        B, L, D = x_q.shape
        S = x_kv.shape[1]
        q = self.q(x_q).view(B, L, self.h, -1).transpose(1, 2)
        k = self.k(x_kv).view(B, S, self.h, -1).transpose(1, 2)
        v = self.v(x_kv).view(B, S, self.h, -1).transpose(1, 2)
        out = F.scaled_dot_product_attention(q, k, v, is_causal=self.causal and L == S,  # expect: MG202
                                             dropout_p=self.attn_dropout)
        return self.o(out.transpose(1, 2).reshape(B, L, D))


class DistilConv(nn.Module):
    """Halves the sequence length between encoder layers."""

    def __init__(self, d_model):
        super().__init__()
        self.conv = nn.Conv1d(d_model, d_model, 3, padding=1, padding_mode="circular")
        self.norm = nn.BatchNorm1d(d_model)
        self.pool = nn.MaxPool1d(3, stride=2, padding=1)

    def forward(self, x):
        x = self.pool(F.elu(self.norm(self.conv(x.transpose(1, 2)))))
        return x.transpose(1, 2)


class EncoderLayer(nn.Module):
    def __init__(self, d_model, n_heads, d_ff, dropout):
        super().__init__()
        self.attn = MultiHeadAttention(d_model, n_heads, dropout)
        self.ff = nn.Sequential(nn.Linear(d_model, d_ff), nn.GELU(), nn.Dropout(dropout), nn.Linear(d_ff, d_model))
        self.n1, self.n2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.drop = nn.Dropout(dropout)

    def forward(self, x):
        x = self.n1(x + self.drop(self.attn(x, x)))
        return self.n2(x + self.drop(self.ff(x)))


class DecoderLayer(nn.Module):
    def __init__(self, d_model, n_heads, d_ff, dropout):
        super().__init__()
        self.self_attn = MultiHeadAttention(d_model, n_heads, dropout, causal=True)
        self.cross_attn = MultiHeadAttention(d_model, n_heads, dropout)
        self.ff = nn.Sequential(nn.Linear(d_model, d_ff), nn.GELU(), nn.Dropout(dropout), nn.Linear(d_ff, d_model))
        self.norms = nn.ModuleList([nn.LayerNorm(d_model) for _ in range(3)])
        self.drop = nn.Dropout(dropout)

    def forward(self, x, memory):
        x = self.norms[0](x + self.drop(self.self_attn(x, x)))
        x = self.norms[1](x + self.drop(self.cross_attn(x, memory)))
        return self.norms[2](x + self.drop(self.ff(x)))


class InformerLite(nn.Module):
    def __init__(self, enc_in, dec_in, c_out, pred_len, d_model=512, n_heads=8, e_layers=2, d_layers=1,
                 d_ff=2048, dropout=0.05):
        super().__init__()
        self.pred_len = pred_len
        self.enc_emb = TimeFeatureEmbedding(enc_in, d_model, dropout=dropout)
        self.dec_emb = TimeFeatureEmbedding(dec_in, d_model, dropout=dropout)
        self.encoder = nn.ModuleList([EncoderLayer(d_model, n_heads, d_ff, dropout) for _ in range(e_layers)])
        self.distil = nn.ModuleList([DistilConv(d_model) for _ in range(e_layers - 1)])
        self.decoder = nn.ModuleList([DecoderLayer(d_model, n_heads, d_ff, dropout) for _ in range(d_layers)])
        self.proj = nn.Linear(d_model, c_out)

    def forward(self, x_enc, x_mark_enc, x_dec, x_mark_dec):
        h = self.enc_emb(x_enc, x_mark_enc)
        for i, layer in enumerate(self.encoder):
            h = layer(h)
            if i < len(self.distil):
                h = self.distil[i](h)
        d = self.dec_emb(x_dec, x_mark_dec)
        for layer in self.decoder:
            d = layer(d, h)
        return self.proj(d)[:, -self.pred_len:]
