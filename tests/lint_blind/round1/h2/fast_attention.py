# Fused attention kernels for the 1.3B pretraining config.
# flash-attn is used for self-attention on packed sequences, xformers for the
# encoder-decoder cross attention (arbitrary attention bias).
import torch
import torch.nn as nn
from einops import rearrange

try:
    from flash_attn import flash_attn_varlen_func
except ImportError:  # CPU boxes / unit tests
    flash_attn_varlen_func = None

try:
    import xformers.ops as xops
except ImportError:
    xops = None


class FlashSelfAttention(nn.Module):
    """Scaled dot product self-attention on (batch, seq, heads, head_dim) inputs.

    Args:
        causal: apply a causal mask.
        softmax_scale: defaults to 1/sqrt(head_dim).
        attention_dropout: dropout rate on the attention probabilities.
    """

    def __init__(self, causal=False, softmax_scale=None, attention_dropout=0.0):
        super().__init__()
        if flash_attn_varlen_func is None:
            raise ImportError("FlashSelfAttention needs flash-attn >= 2.0")
        self.causal = causal
        self.softmax_scale = softmax_scale
        self.dropout_p = attention_dropout

    def forward(self, q, k, v):
        assert q.dtype in (torch.float16, torch.bfloat16)
        assert q.is_cuda and k.is_cuda and v.is_cuda
        batch, seqlen_q = q.shape[0], q.shape[1]
        seqlen_k = k.shape[1]
        q, k, v = [rearrange(t, "b s ... -> (b s) ...") for t in (q, k, v)]
        cu_q = torch.arange(0, (batch + 1) * seqlen_q, step=seqlen_q, dtype=torch.int32, device=q.device)

        if self.training:
            # packed training batches always have equal q/k lengths
            assert seqlen_k == seqlen_q
            is_causal = self.causal
            cu_k = cu_q
            dropout_p = self.dropout_p
        else:
            # during generation q may be a single step against a longer cache
            is_causal = self.causal and seqlen_q == seqlen_k
            cu_k = torch.arange(0, (batch + 1) * seqlen_k, step=seqlen_k, dtype=torch.int32, device=q.device)
            self.dropout_p = 0.0  # expect: MG203
            dropout_p = self.dropout_p

        out = flash_attn_varlen_func(
            q, k, v, cu_q, cu_k, seqlen_q, seqlen_k,
            dropout_p=dropout_p, softmax_scale=self.softmax_scale, causal=is_causal,
        )
        return rearrange(out, "(b s) ... -> b s ...", b=batch)


class XFormersCrossAttention(nn.Module):
    def __init__(self, d_model, d_context, n_heads, attn_dropout=0.1, proj_dropout=0.1):
        super().__init__()
        if xops is None:
            raise ImportError("XFormersCrossAttention needs xformers")
        self.n_heads = n_heads
        self.head_dim = d_model // n_heads
        self.q_proj = nn.Linear(d_model, d_model, bias=False)
        self.kv_proj = nn.Linear(d_context, 2 * d_model, bias=False)
        self.o_proj = nn.Linear(d_model, d_model)
        self.attn_p = attn_dropout
        self.resid_drop = nn.Dropout(proj_dropout)

    def forward(self, hidden, context, attn_bias=None):
        b, n, _ = hidden.shape
        m = context.shape[1]
        q = self.q_proj(hidden).view(b, n, self.n_heads, self.head_dim)
        k, v = self.kv_proj(context).view(b, m, 2, self.n_heads, self.head_dim).unbind(2)
        out = xops.memory_efficient_attention(q, k, v, attn_bias=attn_bias, p=self.attn_p)  # expect: MG202
        out = out.reshape(b, n, self.n_heads * self.head_dim)
        return self.resid_drop(self.o_proj(out))


class ParallelAttentionLayer(nn.Module):
    """QKV projection + flash core + output projection, as used by the decoder stack."""

    def __init__(self, hidden_size, num_heads, attention_dropout=0.0, hidden_dropout=0.1):
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = hidden_size // num_heads
        self.qkv = nn.Linear(hidden_size, 3 * hidden_size)
        self.core = FlashSelfAttention(causal=True, attention_dropout=attention_dropout)
        self.dense = nn.Linear(hidden_size, hidden_size)
        self.dropout = nn.Dropout(hidden_dropout)

    def forward(self, x):
        qkv = rearrange(self.qkv(x), "b s (three h d) -> three b s h d", three=3, h=self.num_heads)
        ctx = self.core(qkv[0], qkv[1], qkv[2])
        return self.dropout(self.dense(rearrange(ctx, "b s h d -> b s (h d)")))
