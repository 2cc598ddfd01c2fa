import torch.nn.functional as F
from torch import nn


class Attn(nn.Module):
    def forward(self, q, k, v):
        a = F.scaled_dot_product_attention(q, k, v)
        return a + F.scaled_dot_product_attention(q, k, v, dropout_p=0.0)
