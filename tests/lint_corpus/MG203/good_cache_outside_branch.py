from torch import nn


class Rotary(nn.Module):
    def forward(self, x):
        self.cache = x.shape[-1]
        if self.training:
            return x * 2
        return x
