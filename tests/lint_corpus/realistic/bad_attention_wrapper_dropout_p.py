"""A multi-head attention module calls its attention through a wrapper (SDPA or flex
attention, chosen at construction) and passes the dropout probability as is; the fixed
module next to it gates it on the mode."""
import torch.nn as nn
import torch.nn.functional as F


def _sdpa_or_flex_attention():
    def _attention_call(q, k, v, mask, dropout_p, is_causal):
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout_p,
                                              is_causal=is_causal)
    return _attention_call


class MultiHeadAttention(nn.Module):
    def __init__(self, dim, heads, attn_dropout=0.1):
        super().__init__()
        self.qkv = nn.Linear(dim, 3 * dim)
        self.heads, self.attn_dropout = heads, attn_dropout
        self._attention_call = _sdpa_or_flex_attention()

    def forward(self, x, mask=None):
        b, s, d = x.shape
        q, k, v = self.qkv(x).view(b, s, 3, self.heads, -1).permute(2, 0, 3, 1, 4)
        out = self._attention_call(  # expect: MG202
            q, k, v, mask=mask, dropout_p=self.attn_dropout, is_causal=mask is None)
        return out.transpose(1, 2).reshape(b, s, d)


class FixedMultiHeadAttention(MultiHeadAttention):
    def forward(self, x, mask=None):
        b, s, d = x.shape
        q, k, v = self.qkv(x).view(b, s, 3, self.heads, -1).permute(2, 0, 3, 1, 4)
        out = self._attention_call(q, k, v, mask=mask,
                                   dropout_p=self.attn_dropout if self.training else 0.0,
                                   is_causal=mask is None)
        return out.transpose(1, 2).reshape(b, s, d)
