"""A speech model's own decoding methods run under no_grad and call the model's other methods
and submodules: the caller chooses the mode (it calls model.eval() before decoding), and the
glancing pass samples with the decoder it trains."""
import torch
import torch.nn as nn


class ASRModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(80, 256), nn.Dropout(0.1))
        self.decoder = nn.Sequential(nn.Linear(256, 256), nn.Dropout(0.1), nn.Linear(256, 100))

    def _forward_encoder(self, speech):
        return self.encoder(speech)

    def forward(self, speech, tokens):
        encoded = self.encoder(speech)
        with torch.no_grad():
            sampled = self.decoder(encoded).argmax(-1)  # glancing: samples with the trained decoder
        return self.decoder(encoded + (sampled == tokens).unsqueeze(-1).float())

    @torch.no_grad()
    def greedy_search(self, speech):
        encoded = self._forward_encoder(speech)
        return self.decoder(encoded).argmax(-1)
