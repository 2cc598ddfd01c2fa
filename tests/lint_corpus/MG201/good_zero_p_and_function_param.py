import torch.nn.functional as F


def mlp(x, weights, training):
    return F.dropout(x @ weights, p=0.5, training=training)


class Identity:
    def forward(self, x):
        return F.dropout(x, p=0.0)
