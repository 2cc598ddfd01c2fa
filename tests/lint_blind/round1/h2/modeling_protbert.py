# coding=utf-8
"""PyTorch ProtBERT encoder with eager and SDPA attention implementations."""
import math
from typing import Optional, Tuple

import torch
from torch import nn

from transformers.activations import ACT2FN
from transformers.modeling_utils import PreTrainedModel

from .configuration_protbert import ProtBertConfig


class ProtBertSelfAttention(nn.Module):
    def __init__(self, config: ProtBertConfig):
        super().__init__()
        if config.hidden_size % config.num_attention_heads != 0:
            raise ValueError(
                f"hidden size ({config.hidden_size}) is not a multiple of the number of attention heads "
                f"({config.num_attention_heads})"
            )
        self.num_attention_heads = config.num_attention_heads
        self.attention_head_size = config.hidden_size // config.num_attention_heads
        self.all_head_size = self.num_attention_heads * self.attention_head_size
        self.query = nn.Linear(config.hidden_size, self.all_head_size)
        self.key = nn.Linear(config.hidden_size, self.all_head_size)
        self.value = nn.Linear(config.hidden_size, self.all_head_size)
        self.dropout = nn.Dropout(config.attention_probs_dropout_prob)
        self.dropout_prob = config.attention_probs_dropout_prob
        self.attn_implementation = getattr(config, "_attn_implementation", "eager")

    def _split_heads(self, x):
        new_shape = x.size()[:-1] + (self.num_attention_heads, self.attention_head_size)
        return x.view(new_shape).permute(0, 2, 1, 3)

    def forward(
        self,
        hidden_states: torch.Tensor,
        attention_mask: Optional[torch.FloatTensor] = None,
        output_attentions: bool = False,
    ) -> Tuple[torch.Tensor, ...]:
        query_layer = self._split_heads(self.query(hidden_states))
        key_layer = self._split_heads(self.key(hidden_states))
        value_layer = self._split_heads(self.value(hidden_states))

        if self.attn_implementation == "sdpa" and not output_attentions:
            attn_kwargs = {
                "attn_mask": attention_mask,
                "dropout_p": self.dropout_prob if self.training else 0.0,
                "is_causal": False,
            }
            context_layer = torch.nn.functional.scaled_dot_product_attention(
                query_layer, key_layer, value_layer, **attn_kwargs
            )
            attention_probs = None
        else:
            scores = torch.matmul(query_layer, key_layer.transpose(-1, -2)) / math.sqrt(self.attention_head_size)
            if attention_mask is not None:
                scores = scores + attention_mask
            attention_probs = nn.functional.softmax(scores, dim=-1)
            context_layer = torch.matmul(self.dropout(attention_probs), value_layer)

        context_layer = context_layer.permute(0, 2, 1, 3).contiguous()
        context_layer = context_layer.view(context_layer.size()[:-2] + (self.all_head_size,))
        return (context_layer, attention_probs) if output_attentions else (context_layer,)


class ProtBertSelfOutput(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, hidden_states, input_tensor):
        return self.LayerNorm(self.dropout(self.dense(hidden_states)) + input_tensor)


class ProtBertLayer(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.attention = ProtBertSelfAttention(config)
        self.attention_output = ProtBertSelfOutput(config)
        self.intermediate = nn.Linear(config.hidden_size, config.intermediate_size)
        self.intermediate_act_fn = ACT2FN[config.hidden_act]
        self.output = nn.Linear(config.intermediate_size, config.hidden_size)
        self.output_dropout = nn.Dropout(config.hidden_dropout_prob)
        self.output_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)

    def forward(self, hidden_states, attention_mask=None, output_attentions=False):
        self_outputs = self.attention(hidden_states, attention_mask, output_attentions)
        attn_out = self.attention_output(self_outputs[0], hidden_states)
        inter = self.intermediate_act_fn(self.intermediate(attn_out))
        layer_out = self.output_norm(self.output_dropout(self.output(inter)) + attn_out)
        return (layer_out,) + self_outputs[1:]


class ProtBertPreTrainedModel(PreTrainedModel):
    config_class = ProtBertConfig
    base_model_prefix = "protbert"
    supports_gradient_checkpointing = True
    _supports_sdpa = True

    def _init_weights(self, module):
        if isinstance(module, nn.Linear):
            module.weight.data.normal_(mean=0.0, std=self.config.initializer_range)
            if module.bias is not None:
                module.bias.data.zero_()
        elif isinstance(module, nn.Embedding):
            module.weight.data.normal_(mean=0.0, std=self.config.initializer_range)
        elif isinstance(module, nn.LayerNorm):
            module.bias.data.zero_()
            module.weight.data.fill_(1.0)


class ProtBertEncoder(ProtBertPreTrainedModel):
    def __init__(self, config):
        super().__init__(config)
        self.embeddings = nn.Embedding(config.vocab_size, config.hidden_size, padding_idx=config.pad_token_id)
        self.position_embeddings = nn.Embedding(config.max_position_embeddings, config.hidden_size)
        self.emb_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.emb_dropout = nn.Dropout(config.hidden_dropout_prob)
        self.layer = nn.ModuleList([ProtBertLayer(config) for _ in range(config.num_hidden_layers)])
        self.gradient_checkpointing = False
        self.post_init()

    def forward(self, input_ids, attention_mask=None, output_attentions=False):
        positions = torch.arange(input_ids.size(1), device=input_ids.device).unsqueeze(0)
        hidden = self.emb_dropout(self.emb_norm(self.embeddings(input_ids) + self.position_embeddings(positions)))
        ext_mask = None
        if attention_mask is not None:
            ext_mask = (1.0 - attention_mask[:, None, None, :].to(hidden.dtype)) * torch.finfo(hidden.dtype).min
        all_attn = ()
        for layer_module in self.layer:
            if self.gradient_checkpointing and self.training:
                outputs = self._gradient_checkpointing_func(layer_module.__call__, hidden, ext_mask, output_attentions)
            else:
                outputs = layer_module(hidden, ext_mask, output_attentions)
            hidden = outputs[0]
            if output_attentions:
                all_attn = all_attn + (outputs[1],)
        return hidden, all_attn
