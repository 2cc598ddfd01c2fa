from torch import nn


class Net(nn.Module):
    def __init__(self, training_mode=True):
        super().__init__()
        if training_mode:
            self.p = 0.1

    def forward(self, x):
        return x
