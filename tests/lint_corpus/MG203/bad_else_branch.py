from torch import nn


class Drop(nn.Module):
    def __init__(self, p):
        super().__init__()
        self.p = p

    def forward(self, x):
        if self.training:
            return nn.functional.dropout(x, self.p, training=True)
        else:
            self.p = 0  # expect: MG203
            return x
