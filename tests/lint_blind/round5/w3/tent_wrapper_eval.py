"""Test-time entropy minimisation (Tent) as a model wrapper + a source-only baseline."""
import argparse
import copy

import torch
import torch.jit
import torch.nn as nn

from robustbench.data import load_cifar10c
from robustbench.utils import clean_accuracy, load_model


class Tent(nn.Module):
    """Adapts a model by entropy minimisation during the forward pass."""

    def __init__(self, model, optimizer, steps=1, episodic=False):
        super().__init__()
        self.model, self.optimizer = model, optimizer
        self.steps, self.episodic = steps, episodic
        self._saved = (copy.deepcopy(model.state_dict()), copy.deepcopy(optimizer.state_dict()))

    def forward(self, x):
        if self.episodic:
            self.reset()
        for _ in range(self.steps):
            outputs = self._adapt(x)
        return outputs

    def reset(self):
        self.model.load_state_dict(self._saved[0], strict=True)
        self.optimizer.load_state_dict(self._saved[1])

    @torch.enable_grad()
    def _adapt(self, x):
        outputs = self.model(x)
        loss = -(outputs.softmax(1) * outputs.log_softmax(1)).sum(1).mean(0)
        loss.backward()
        self.optimizer.step()
        self.optimizer.zero_grad()
        return outputs


def configure_model(model):
    """Train mode (BN uses batch statistics), only BN affine parameters trainable."""
    model.train()
    model.requires_grad_(False)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.requires_grad_(True)
            m.track_running_stats = False
            m.running_mean = None
            m.running_var = None
    return model


def collect_params(model):
    return [p for m in model.modules() if isinstance(m, nn.BatchNorm2d)
            for n, p in m.named_parameters() if n in ("weight", "bias")]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--severity", type=int, default=5)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--bs", type=int, default=200)
    ap.add_argument("--corruptions", nargs="+", default=["gaussian_noise", "fog", "jpeg_compression"])
    args = ap.parse_args()

    source = load_model("Standard", "./ckpt", "cifar10", "corruptions").cuda()
    baseline = copy.deepcopy(source).eval()

    model = configure_model(source)
    optimizer = torch.optim.Adam(collect_params(model), lr=args.lr, betas=(0.9, 0.999))
    tented = Tent(model, optimizer)

    for name in args.corruptions:
        x, y = load_cifar10c(10000, args.severity, "./data", False, [name])
        x, y = x.cuda(), y.cuda()
        with torch.no_grad():
            src_acc = clean_accuracy(baseline, x, y, batch_size=args.bs)

        tented.reset()
        hits = 0
        for i in range(0, x.shape[0], args.bs):
            out = tented(x[i:i + args.bs])
            hits += (out.argmax(1) == y[i:i + args.bs]).float().sum().item()
        print(f"{name:>18s}: source err {1 - src_acc:.2%}  tent err {1 - hits / x.shape[0]:.2%}")


if __name__ == "__main__":
    main()
