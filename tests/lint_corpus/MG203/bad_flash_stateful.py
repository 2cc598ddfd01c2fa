from torch import nn


class FlashSelfAttention(nn.Module):
    def __init__(self, attention_dropout=0.1):
        super().__init__()
        self.dropout_p = attention_dropout

    def forward(self, q, k, v):
        if not self.training:
            self.dropout_p = 0.0  # expect: MG203
        return self.attend(q, k, v, self.dropout_p)

    def attend(self, q, k, v, p):
        return q
