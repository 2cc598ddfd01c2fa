import torch
from torch import nn


class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(8, 8, num_layers=2, dropout=0.3)
        self.out = nn.Linear(8, 3)

    def forward(self, x):
        return self.out(self.rnn(x)[0])


tagger = Tagger()
optimizer = torch.optim.Adam(tagger.parameters())


def score(batch):
    tagger.eval()  # expect: MG101
    with torch.no_grad():
        return tagger(batch)


for step in range(100):
    loss = tagger(torch.randn(5, 2, 8)).sum()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if step % 10 == 0:
        score(torch.randn(5, 2, 8))
