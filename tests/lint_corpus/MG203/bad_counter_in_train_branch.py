from torch import nn


class Noisy(nn.Module):
    def __init__(self):
        super().__init__()
        self.sigma = 1.0

    def forward(self, x):
        if self.training:
            self.sigma *= 0.99  # expect: MG203
        return x
