"""Exponential moving average of the denoiser weights (with warm-up, as in Karras et al.)."""
import copy

import torch
import torch.nn as nn


class EMA(nn.Module):
    def __init__(self, model: nn.Module, beta: float = 0.9999, warmup_power: float = 2 / 3,
                 update_after: int = 100):
        super().__init__()
        self.beta = beta
        self.warmup_power = warmup_power
        self.update_after = update_after
        self.online = [model]  # plain list: not registered as a submodule
        self.shadow = copy.deepcopy(model)
        self.shadow.requires_grad_(False)
        self.shadow.eval()
        self.register_buffer("num_updates", torch.zeros((), dtype=torch.long))

    def train(self, mode: bool = True):
        # the averaged copy is only ever used for sampling; never let a parent
        # `.train()` call switch its dropout back on
        return super().train(False)

    def decay(self) -> float:
        n = int(self.num_updates) - self.update_after
        if n <= 0:
            return 0.0
        return min(self.beta, 1 - (1 + n) ** -self.warmup_power)

    @torch.no_grad()
    def update(self):
        self.num_updates += 1
        online = self.online[0]
        d = self.decay()
        for p_ema, p in zip(self.shadow.parameters(), online.parameters()):
            if d == 0.0:
                p_ema.copy_(p)
            else:
                p_ema.lerp_(p, 1 - d)
        for b_ema, b in zip(self.shadow.buffers(), online.buffers()):
            b_ema.copy_(b)

    def forward(self, *args, **kwargs):
        return self.shadow(*args, **kwargs)

    def state_dict(self, *args, **kwargs):
        return {"shadow": self.shadow.state_dict(), "num_updates": self.num_updates.clone()}

    def load_state_dict(self, sd, strict=True):
        self.shadow.load_state_dict(sd["shadow"], strict=strict)
        self.num_updates.copy_(sd["num_updates"])
