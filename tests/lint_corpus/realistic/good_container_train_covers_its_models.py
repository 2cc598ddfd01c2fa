"""Two pretrained encoders come out of from_pretrained() in eval mode, are wrapped in one
module, and the wrapper's train() at the top of every epoch switches both back."""
import torch
from torch import nn
from transformers import AutoModel


class DualEncoder(nn.Module):
    def __init__(self, query_encoder, doc_encoder):
        super().__init__()
        self.query_encoder = query_encoder
        self.doc_encoder = doc_encoder

    def forward(self, q, d):
        return self.query_encoder(**q).pooler_output @ self.doc_encoder(**d).pooler_output.t()


def train(loader, epochs=2):
    q_enc = AutoModel.from_pretrained("bert-base-uncased")
    d_enc = AutoModel.from_pretrained("bert-base-uncased")
    dual = DualEncoder(q_enc, d_enc)
    optimizer = torch.optim.AdamW(dual.parameters(), lr=2e-5)
    for _ in range(epochs):
        dual.train()
        for q, d in loader:
            scores = dual(q, d)
            loss = nn.functional.cross_entropy(scores, torch.arange(len(scores)))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
