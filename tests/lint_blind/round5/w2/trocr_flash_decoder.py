"""Text decoder for an image-to-text OCR model (TrOCR-like), flash-attention for the
causal self-attention, PyTorch SDPA for cross-attention over the ViT patch tokens."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from flash_attn import flash_attn_func


class DecoderLayer(nn.Module):
    def __init__(self, d_model=512, n_heads=8, ffn=2048, dropout=0.1, attn_dropout=0.1):
        super().__init__()
        self.h = n_heads
        self.dh = d_model // n_heads
        self.self_qkv = nn.Linear(d_model, 3 * d_model)
        self.self_out = nn.Linear(d_model, d_model)
        self.cross_q = nn.Linear(d_model, d_model)
        self.cross_kv = nn.Linear(d_model, 2 * d_model)
        self.cross_out = nn.Linear(d_model, d_model)
        self.ln1, self.ln2, self.ln3 = nn.LayerNorm(d_model), nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.ffn = nn.Sequential(nn.Linear(d_model, ffn), nn.GELU(), nn.Linear(ffn, d_model))
        self.drop = nn.Dropout(dropout)
        self.attn_dropout = attn_dropout

    def _self_attention(self, x):
        b, t, _ = x.shape
        q, k, v = self.self_qkv(x).view(b, t, 3, self.h, self.dh).unbind(2)
        # flash-attn wants (batch, seqlen, heads, head_dim) in fp16/bf16
        y = flash_attn_func(  # expect: MG202
            q.half(), k.half(), v.half(),
            dropout_p=self.attn_dropout,
            causal=True,
        )
        return self.self_out(y.to(x.dtype).reshape(b, t, -1))

    def _cross_attention(self, x, memory):
        b, t, _ = x.shape
        s = memory.size(1)
        q = self.cross_q(x).view(b, t, self.h, self.dh).transpose(1, 2)
        k, v = self.cross_kv(memory).view(b, s, 2, self.h, self.dh).permute(2, 0, 3, 1, 4)
        y = F.scaled_dot_product_attention(
            q, k, v, dropout_p=self.attn_dropout if self.training else 0.0)
        return self.cross_out(y.transpose(1, 2).reshape(b, t, -1))

    def forward(self, x, memory):
        x = x + self.drop(self._self_attention(self.ln1(x)))
        x = x + self.drop(self._cross_attention(self.ln2(x), memory))
        return x + self.drop(self.ffn(self.ln3(x)))


class OCRTextDecoder(nn.Module):
    def __init__(self, vocab_size, d_model=512, n_layers=6, max_len=128, **layer_kw):
        super().__init__()
        self.tok = nn.Embedding(vocab_size, d_model)
        self.pos = nn.Parameter(torch.zeros(1, max_len, d_model))
        self.layers = nn.ModuleList([DecoderLayer(d_model, **layer_kw) for _ in range(n_layers)])
        self.ln_f = nn.LayerNorm(d_model)
        self.lm_head = nn.Linear(d_model, vocab_size, bias=False)
        self.lm_head.weight = self.tok.weight

    def forward(self, tokens, memory):
        x = self.tok(tokens) + self.pos[:, :tokens.size(1)]
        for layer in self.layers:
            x = layer(x, memory)
        return self.lm_head(self.ln_f(x))

    @torch.no_grad()
    def greedy(self, memory, bos_id, eos_id, max_len=64):
        was_training = self.training
        self.eval()
        out = torch.full((memory.size(0), 1), bos_id, dtype=torch.long, device=memory.device)
        for _ in range(max_len - 1):
            nxt = self(out, memory)[:, -1].argmax(-1, keepdim=True)
            out = torch.cat([out, nxt], dim=1)
            if (nxt == eos_id).all():
                break
        self.train(was_training)
        return out
