"""recalibrate_bn vs torch.optim.swa_utils.update_bn vs fvcore.nn.update_bn_stats.

One process, same models and data for all three, repetitions interleaved (the order of the
three tools rotates every repetition), median wall time. Accuracy: the largest error of
running_mean / running_var against float64 ground truth = the population statistics of each
BatchNorm layer's inputs over a training-mode pass with dropout off (the models here have no
dropout, so every tool sees the same inputs).

    error(mean) = max over channels |mean - true_mean| / sqrt(true_var)
    error(var)  = max over channels |var - true_var| / true_var

Scenarios:
  (a) iid: shuffled batches from one distribution
  (b) non-iid: ordered batches, each with its own offset (as when sorted by class), ragged last
  (c) heavy head: the model of (a) with a large MLP after the last BatchNorm

Run:  .venv/bin/python benchmarks/recalibrate.py [--reps 7] [--markdown]
"""

from __future__ import annotations

import argparse
import copy
import platform
import statistics
import sys
import time
from typing import Callable

import torch
from torch import nn

import modeguard as mg


def backbone() -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
        nn.Conv2d(32, 64, 3, padding=1, stride=2), nn.BatchNorm2d(64), nn.ReLU(),
        nn.Conv2d(64, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(),
    )


def small_model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(backbone(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))


def heavy_head_model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(backbone(), nn.Flatten(), nn.Linear(64 * 16 * 16, 1024), nn.ReLU(),
                         nn.Linear(1024, 1024), nn.ReLU(), nn.Linear(1024, 10))


def iid_batches(n: int = 24, bs: int = 32) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    return [torch.randn(bs, 3, 32, 32, generator=g) * 1.5 + 0.5 for _ in range(n)]


def noniid_batches(n: int = 24, bs: int = 32) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(2)
    offsets = torch.randn(n, generator=g) * 2.0  # per-batch shift, sorted like class order
    sizes = [bs] * (n - 1) + [bs // 3]  # ragged last batch
    return [torch.randn(s, 3, 32, 32, generator=g) + offsets[i] for i, s in enumerate(sizes)]


def bns(model: nn.Module) -> list[nn.modules.batchnorm._BatchNorm]:
    return [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]


def ground_truth(model: nn.Module, batches: list[torch.Tensor]) -> list[tuple[torch.Tensor, torch.Tensor]]:
    ref = copy.deepcopy(model).train()
    acc: list[list[torch.Tensor]] = [[] for _ in bns(ref)]
    for i, m in enumerate(bns(ref)):
        m.register_forward_pre_hook(
            lambda mod, a, i=i: acc[i].append(a[0].double().transpose(0, 1).reshape(a[0].shape[1], -1)))
    with torch.no_grad():
        for b in batches:
            ref(b)
    return [(torch.cat(x, 1).mean(1), torch.cat(x, 1).var(1)) for x in acc]


def error(model: nn.Module, truth: list[tuple[torch.Tensor, torch.Tensor]]) -> float:
    worst = 0.0
    for m, (mean, var) in zip(bns(model), truth):
        worst = max(worst, ((m.running_mean.double() - mean).abs() / var.sqrt()).max().item(),
                    ((m.running_var.double() - var).abs() / var).max().item())
    return worst


def run_modeguard(model: nn.Module, batches: list[torch.Tensor]) -> None:
    mg.recalibrate_bn(model, batches, progress=False)


def run_update_bn(model: nn.Module, batches: list[torch.Tensor]) -> None:
    torch.optim.swa_utils.update_bn(batches, model)


def run_fvcore(model: nn.Module, batches: list[torch.Tensor]) -> None:
    from fvcore.nn.precise_bn import update_bn_stats

    model.train()  # fvcore leaves modes to the caller: BatchNorm must be in training mode
    update_bn_stats(model, batches, num_iters=len(batches))  # it asserts the exact length


TOOLS: dict[str, Callable[[nn.Module, list[torch.Tensor]], None]] = {
    "modeguard": run_modeguard, "update_bn": run_update_bn, "fvcore": run_fvcore,
}


def measure(make: Callable[[], nn.Module], batches: list[torch.Tensor], reps: int) -> dict:
    base = make()
    truth = ground_truth(base, batches)
    times: dict[str, list[float]] = {t: [] for t in TOOLS}
    errors: dict[str, float] = {}
    names = list(TOOLS)
    for rep in range(reps + 1):  # repetition 0 warms up and is discarded
        order = names[rep % 3:] + names[:rep % 3]
        for name in order:
            model = copy.deepcopy(base)
            t0 = time.perf_counter()
            TOOLS[name](model, batches)
            dt = time.perf_counter() - t0
            if rep:
                times[name].append(dt)
            errors[name] = error(model, truth)
    med = {t: statistics.median(v) for t, v in times.items()}
    return {"time": med, "error": errors}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--markdown", action="store_true", help="print a RESULTS.md table")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    scenarios = {
        "(a) iid": (small_model, iid_batches()),
        "(b) non-iid ordered, ragged last": (small_model, noniid_batches()),
        "(c) heavy head after last BN": (heavy_head_model, iid_batches()),
    }
    rows = []
    for label, (make, batches) in scenarios.items():
        r = measure(make, batches, args.reps)
        t = r["time"]
        rows.append((label, r["error"]["modeguard"], r["error"]["update_bn"], r["error"]["fvcore"],
                     t["modeguard"] / t["update_bn"], t["fvcore"] / t["update_bn"],
                     t["update_bn"]))
        print(f"{label}: done", file=sys.stderr)
    import fvcore

    print(f"machine: {platform.machine()} {platform.processor() or ''}, {torch.get_num_threads()} "
          f"torch thread(s); torch {torch.__version__}, fvcore {getattr(fvcore, '__version__', '?')}, "
          f"python {platform.python_version()}; {args.reps} interleaved repetitions, medians")
    print()
    print("| scenario | max error modeguard | max error update_bn | max error fvcore | "
          "time modeguard / update_bn | time fvcore / update_bn | update_bn time (s) |")
    print("|---|---|---|---|---|---|---|")
    for label, em, eu, ef, rm, rf, tu in rows:
        print(f"| {label} | {em:.1e} | {eu:.1e} | {ef:.1e} | {rm:.2f}x | {rf:.2f}x | {tu:.3f} |")


if __name__ == "__main__":
    main()
