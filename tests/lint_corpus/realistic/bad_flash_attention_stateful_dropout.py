"""Flash self-attention whose eval branch overwrites the configured dropout."""
import torch
import torch.nn as nn
from flash_attn import flash_attn_func


class FlashSelfAttention(nn.Module):
    def __init__(self, causal=False, softmax_scale=None, attention_dropout=0.0):
        super().__init__()
        self.causal = causal
        self.softmax_scale = softmax_scale
        self.dropout_p = attention_dropout

    def forward(self, q, k, v):
        if not self.training:
            self.dropout_p = 0.0  # expect: MG203
        return flash_attn_func(q, k, v, self.dropout_p, softmax_scale=self.softmax_scale,
                               causal=self.causal)
