"""Hand-rolled LoRA for causal LMs: wrap selected nn.Linear layers and train only A/B."""
import math
import re

import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import AutoModelForCausalLM, AutoTokenizer


class LoRALinear(nn.Module):
    def __init__(self, base: nn.Linear, rank: int = 8, alpha: float = 16.0, dropout: float = 0.05):
        super().__init__()
        self.base = base
        self.base.weight.requires_grad_(False)
        if self.base.bias is not None:
            self.base.bias.requires_grad_(False)
        self.rank = rank
        self.scaling = alpha / rank
        self.lora_dropout = dropout
        self.lora_A = nn.Parameter(torch.empty(rank, base.in_features))
        self.lora_B = nn.Parameter(torch.zeros(base.out_features, rank))
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))

    def forward(self, x):
        frozen = self.base(x)
        x_d = F.dropout(x, p=self.lora_dropout)  # expect: MG201
        update = (x_d @ self.lora_A.t()) @ self.lora_B.t()
        return frozen + update * self.scaling

    @torch.no_grad()
    def merged_weight(self):
        return self.base.weight + (self.lora_B @ self.lora_A) * self.scaling


def add_lora(model: nn.Module, pattern: str = r"(q_proj|v_proj)$", **kw) -> int:
    """Replace every Linear whose qualified name matches `pattern`. Returns the count."""
    targets = [(n, m) for n, m in model.named_modules()
               if isinstance(m, nn.Linear) and re.search(pattern, n)]
    for name, lin in targets:
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        setattr(parent, child, LoRALinear(lin, **kw))
    for n, p in model.named_parameters():
        p.requires_grad = "lora_" in n
    return len(targets)


def lm_loss(model, batch):
    out = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                labels=batch["labels"])
    return out.loss


def finetune(model, train_dl, eval_dl, epochs=2, lr=2e-4, device="cuda"):
    trainable = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(trainable, lr=lr, weight_decay=0.0)
    for ep in range(epochs):
        model.train()
        for step, batch in enumerate(train_dl):
            batch = {k: v.to(device) for k, v in batch.items()}
            loss = lm_loss(model, batch)
            loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)
            if step % 50 == 0:
                print(f"ep {ep} step {step} loss {loss.item():.4f}")

        model.eval()
        with torch.no_grad():
            losses = [lm_loss(model, {k: v.to(device) for k, v in b.items()}).item() for b in eval_dl]
        print(f"ep {ep} eval ppl {math.exp(sum(losses) / len(losses)):.2f}")


if __name__ == "__main__":
    from mydata import instruction_loaders

    tok = AutoTokenizer.from_pretrained("meta-llama/Llama-2-7b-hf")
    lm = AutoModelForCausalLM.from_pretrained("meta-llama/Llama-2-7b-hf", torch_dtype=torch.bfloat16).cuda()
    print("wrapped", add_lora(lm, rank=16, alpha=32, dropout=0.05), "linears")
    tr, ev = instruction_loaders(tok, batch_size=4)
    finetune(lm, tr, ev)
