from torch import nn


class FlashSelfAttention(nn.Module):
    def __init__(self, attention_dropout=0.1):
        super().__init__()
        self.dropout_p = attention_dropout

    def forward(self, q, k, v):
        p = self.dropout_p if self.training else 0.0
        return q * (1 - p)
