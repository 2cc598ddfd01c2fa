import torch


class Embed(torch.nn.Module):
    def __init__(self, rate):
        super().__init__()
        self.rate = rate
        self.emb = torch.nn.Embedding(100, 8)

    def forward(self, ids):
        out = self.emb(ids)
        out = torch.nn.functional.dropout(out, self.rate)  # expect: MG201
        return out
