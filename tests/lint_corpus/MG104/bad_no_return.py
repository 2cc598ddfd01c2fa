from torch import nn


class Encoder(nn.Module):
    def __init__(self, norm_eval=True):
        super().__init__()
        self.bn = nn.BatchNorm2d(8)
        self.norm_eval = norm_eval

    def train(self, mode=True):  # expect: MG104
        super().train(mode)
        if mode and self.norm_eval:
            self.bn.eval()
