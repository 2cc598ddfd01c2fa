"""T5-style encoder layers (relative position bias, RMS layer norm, gated FFN)
and the LightningModule used to pretrain them with span corruption."""
import math

import pytorch_lightning as pl
import torch
import torch.nn as nn
import torch.nn.functional as F


class T5LayerNorm(nn.Module):
    def __init__(self, hidden_size, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(hidden_size))
        self.variance_epsilon = eps

    def forward(self, hidden_states):
        variance = hidden_states.to(torch.float32).pow(2).mean(-1, keepdim=True)
        hidden_states = hidden_states * torch.rsqrt(variance + self.variance_epsilon)
        return self.weight * hidden_states.to(self.weight.dtype)


class T5DenseGatedActDense(nn.Module):
    def __init__(self, d_model, d_ff, dropout_rate):
        super().__init__()
        self.wi_0 = nn.Linear(d_model, d_ff, bias=False)
        self.wi_1 = nn.Linear(d_model, d_ff, bias=False)
        self.wo = nn.Linear(d_ff, d_model, bias=False)
        self.dropout_rate = dropout_rate

    def forward(self, h):
        h = F.gelu(self.wi_0(h), approximate="tanh") * self.wi_1(h)
        h = F.dropout(h, p=self.dropout_rate, training=self.training)
        return self.wo(h)


class T5Attention(nn.Module):
    def __init__(self, d_model, n_heads, d_kv, dropout_rate, has_relative_attention_bias=False,
                 num_buckets=32, max_distance=128):
        super().__init__()
        self.n_heads, self.d_kv = n_heads, d_kv
        self.inner_dim = n_heads * d_kv
        self.q = nn.Linear(d_model, self.inner_dim, bias=False)
        self.k = nn.Linear(d_model, self.inner_dim, bias=False)
        self.v = nn.Linear(d_model, self.inner_dim, bias=False)
        self.o = nn.Linear(self.inner_dim, d_model, bias=False)
        self.dropout = dropout_rate
        self.has_relative_attention_bias = has_relative_attention_bias
        self.num_buckets, self.max_distance = num_buckets, max_distance
        if has_relative_attention_bias:
            self.relative_attention_bias = nn.Embedding(num_buckets, n_heads)

    @staticmethod
    def _bucket(relative_position, num_buckets, max_distance):
        num_buckets //= 2
        ret = (relative_position > 0).long() * num_buckets
        n = relative_position.abs()
        max_exact = num_buckets // 2
        is_small = n < max_exact
        val_large = max_exact + (torch.log(n.float() / max_exact + 1e-6) / math.log(max_distance / max_exact)
                                 * (num_buckets - max_exact)).long()
        val_large = torch.min(val_large, torch.full_like(val_large, num_buckets - 1))
        return ret + torch.where(is_small, n, val_large)

    def compute_bias(self, q_len, k_len, device):
        ctx = torch.arange(q_len, device=device)[:, None]
        mem = torch.arange(k_len, device=device)[None, :]
        buckets = self._bucket(mem - ctx, self.num_buckets, self.max_distance)
        return self.relative_attention_bias(buckets).permute(2, 0, 1).unsqueeze(0)

    def forward(self, h, mask=None, position_bias=None):
        B, L, _ = h.shape
        shape = lambda x: x.view(B, -1, self.n_heads, self.d_kv).transpose(1, 2)
        q, k, v = shape(self.q(h)), shape(self.k(h)), shape(self.v(h))
        scores = q @ k.transpose(3, 2)   # T5 does not scale
        if position_bias is None:
            position_bias = self.compute_bias(L, L, h.device) if self.has_relative_attention_bias else \
                torch.zeros(1, self.n_heads, L, L, device=h.device, dtype=scores.dtype)
            if mask is not None:
                position_bias = position_bias + mask
        weights = F.softmax((scores + position_bias).float(), dim=-1).type_as(scores)
        weights = F.dropout(weights, p=self.dropout, training=self.training)
        out = (weights @ v).transpose(1, 2).reshape(B, L, self.inner_dim)
        return self.o(out), position_bias


class T5EncoderLayer(nn.Module):
    def __init__(self, d_model=512, n_heads=8, d_kv=64, d_ff=1024, dropout_rate=0.1, first=False):
        super().__init__()
        self.attn_norm = T5LayerNorm(d_model)
        self.attn = T5Attention(d_model, n_heads, d_kv, dropout_rate, has_relative_attention_bias=first)
        self.ff_norm = T5LayerNorm(d_model)
        self.ff = T5DenseGatedActDense(d_model, d_ff, dropout_rate)
        self.dropout = nn.Dropout(dropout_rate)

    def forward(self, h, mask=None, position_bias=None):
        a, position_bias = self.attn(self.attn_norm(h), mask, position_bias)
        h = h + self.dropout(a)
        h = h + self.dropout(self.ff(self.ff_norm(h)))
        return h, position_bias


class SpanCorruptionModule(pl.LightningModule):
    def __init__(self, model, lr=1e-2, warmup=10000):
        super().__init__()
        self.model = model
        self.lr, self.warmup = lr, warmup
        self.save_hyperparameters(ignore=["model"])

    def training_step(self, batch, batch_idx):
        out = self.model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], labels=batch["labels"])
        self.log("train/loss", out.loss, prog_bar=True)
        return out.loss

    def validation_step(self, batch, batch_idx):
        out = self.model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], labels=batch["labels"])
        self.log("val/loss", out.loss, sync_dist=True)

    def configure_optimizers(self):
        opt = torch.optim.Adafactor(self.parameters(), lr=self.lr) if hasattr(torch.optim, "Adafactor") \
            else torch.optim.AdamW(self.parameters(), lr=self.lr)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / self.warmup) / math.sqrt(
            max(s + 1, self.warmup) / self.warmup))
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}
