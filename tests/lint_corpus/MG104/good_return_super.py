from torch import nn


class Wrapper(nn.Module):
    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def train(self, mode: bool = True):
        return super().train(mode)

    def forward(self, x):
        return self.inner(x)
