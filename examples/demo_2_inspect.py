"""Mode report of an example model with a freeze and a pin in it."""

import torch
from rich.console import Console
from torch import nn

import modeguard as mg


class Encoder(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3, padding=1)
        self.bn = nn.BatchNorm2d(16)
        self.drop = nn.Dropout2d(0.1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop(torch.relu(self.bn(self.conv(x))))


class Classifier(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.encoder = Encoder()
        self.rnn = nn.GRU(16, 16, num_layers=2, dropout=0.2, batch_first=True)
        self.head_bn = nn.BatchNorm1d(16, momentum=0.9)  # noqa: MG303 (deliberate: warned)
        self.drop = nn.Dropout(0.5)
        self.fc = nn.Linear(16, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.encoder(x).mean(3).transpose(1, 2)        # (N, W, C) sequence
        h = self.rnn(f)[0][:, -1]
        return self.fc(self.drop(self.head_bn(h)))


model = Classifier()
model(torch.randn(8, 3, 16, 16))                # one forward: statistics updated once
mg.freeze_bn(model.encoder)                     # sticky freeze of the encoder's BatchNorm
mg.pin_mode(model, "train", types=nn.Dropout)   # MC dropout on the head
model.eval()                                    # evaluation: pins and freezes still hold

console = Console(width=120)
console.print(mg.report(model))
