"""Shared-weight sentence encoder for dense retrieval, plus a mode-restoring helper."""
from contextlib import contextmanager

import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import AutoModel


class SentenceEncoder(nn.Module):
    def __init__(self, backbone="intfloat/e5-base", out_dim=256, dropout=0.1, pooling="mean"):
        super().__init__()
        self.backbone = AutoModel.from_pretrained(backbone, hidden_dropout_prob=dropout)
        hidden = self.backbone.config.hidden_size
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(hidden, out_dim))
        self.pooling = pooling

    def forward(self, input_ids, attention_mask):
        h = self.backbone(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        if self.pooling == "cls":
            pooled = h[:, 0]
        else:
            m = attention_mask.unsqueeze(-1).to(h.dtype)
            pooled = (h * m).sum(1) / m.sum(1).clamp_min(1e-6)
        return F.normalize(self.head(pooled), dim=-1)


@contextmanager
def eval_mode(module: nn.Module):
    """Temporarily switch `module` to eval mode with autograd off; restore on exit."""
    previous = module.training
    module.eval()
    try:
        with torch.inference_mode():
            yield module
    finally:
        module.train(previous)
