"""Evaluation of a clinical sequence model: inference_mode everywhere, eval() nowhere."""
import torch
import torch.nn as nn


class TimelineTransformer(nn.Module):
    def __init__(self, vocab=4096, d=256):
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        layer = nn.TransformerEncoderLayer(d, 8, dropout=0.1, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, 4)
        self.head = nn.Linear(d, vocab)

    def forward(self, tokens):
        return self.head(self.encoder(self.embed(tokens)))


@torch.inference_mode()
def predict_next(model, tokens, n_steps=16):
    for _ in range(n_steps):
        logits = model(tokens)  # expect: MG102
        tokens = torch.cat([tokens, logits[:, -1].argmax(-1, keepdim=True)], dim=1)
    return tokens


def main(checkpoint):
    model = TimelineTransformer()
    model.load_state_dict(torch.load(checkpoint))
    return predict_next(model, torch.zeros(1, 8, dtype=torch.long))
