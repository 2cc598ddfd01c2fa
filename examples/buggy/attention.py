"""Attention dropout that ignores the mode, and a stateful "fix" that makes it worse."""

import torch.nn.functional as F
from torch import nn


class CausalSelfAttention(nn.Module):
    def __init__(self, dropout=0.1):
        super().__init__()
        self.dropout = dropout

    def forward(self, q, k, v):
        # MG202: dropout_p is applied in eval mode too
        return F.scaled_dot_product_attention(q, k, v, dropout_p=self.dropout, is_causal=True)


class PatchedSelfAttention(CausalSelfAttention):
    def forward(self, q, k, v):
        if not self.training:
            self.dropout = 0.0  # MG203: after one evaluation, training runs without dropout
        return F.scaled_dot_product_attention(q, k, v, dropout_p=self.dropout, is_causal=True)
