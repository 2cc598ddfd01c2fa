"""Transformer NMT models for sequence-level / word-level distillation."""
import math

import torch
import torch.nn as nn


class PositionalEncoding(nn.Module):
    def __init__(self, d_model, dropout, max_len=1024):
        super().__init__()
        pe = torch.zeros(max_len, d_model)
        pos = torch.arange(max_len, dtype=torch.float).unsqueeze(1)
        div = torch.exp(torch.arange(0, d_model, 2).float() * (-math.log(10000.0) / d_model))
        pe[:, 0::2] = torch.sin(pos * div)
        pe[:, 1::2] = torch.cos(pos * div)
        self.register_buffer("pe", pe.unsqueeze(0))
        self.drop = nn.Dropout(dropout)

    def forward(self, x):
        return self.drop(x + self.pe[:, : x.size(1)])


class TransformerMT(nn.Module):
    def __init__(self, vocab_size, d_model=512, heads=8, enc_layers=6, dec_layers=6,
                 ffn=2048, dropout=0.1, pad_id=0):
        super().__init__()
        self.pad_id = pad_id
        self.scale = math.sqrt(d_model)
        self.embed = nn.Embedding(vocab_size, d_model, padding_idx=pad_id)
        self.pos = PositionalEncoding(d_model, dropout)
        self.core = nn.Transformer(d_model, heads, enc_layers, dec_layers, ffn, dropout=dropout,
                                   batch_first=True, norm_first=True)
        self.generator = nn.Linear(d_model, vocab_size, bias=False)
        self.generator.weight = self.embed.weight

    def encode(self, src):
        src_pad = src.eq(self.pad_id)
        memory = self.core.encoder(self.pos(self.embed(src) * self.scale), src_key_padding_mask=src_pad)
        return memory, src_pad

    def decode(self, tgt_in, memory, src_pad):
        causal = self.core.generate_square_subsequent_mask(tgt_in.size(1), device=tgt_in.device)
        h = self.core.decoder(self.pos(self.embed(tgt_in) * self.scale), memory, tgt_mask=causal,
                              tgt_key_padding_mask=tgt_in.eq(self.pad_id),
                              memory_key_padding_mask=src_pad)
        return self.generator(h)

    def forward(self, src, tgt_in):
        memory, src_pad = self.encode(src)
        return self.decode(tgt_in, memory, src_pad)


def build_teacher(vocab_size, ckpt=None):
    net = TransformerMT(vocab_size, d_model=1024, heads=16, ffn=4096, dropout=0.3)
    if ckpt is not None:
        net.load_state_dict(torch.load(ckpt, map_location="cpu")["model"])
    return net


def build_student(vocab_size):
    return TransformerMT(vocab_size, d_model=256, heads=4, enc_layers=6, dec_layers=2,
                         ffn=1024, dropout=0.1)
