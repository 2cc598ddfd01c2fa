"""Training-step time with and without modeguard's watcher, one process, interleaved.

(a) a small CNN with BatchNorm and Dropout, batch 32, 32x32 inputs;
(b) a tiny MLP (the worst case: per-module hook cost against very little compute).

Each repetition alternates blocks of steps without and with the watcher (the order flips every
repetition); the overhead is the ratio of median per-step times. Both `watch(model)` (hooks on
the model's mode-sensitive modules) and `watch()` (global hooks on every module, what
`modeguard run` uses) are measured.

Run:  .venv/bin/python benchmarks/watch_overhead.py [--reps 30] [--steps 20]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch import nn

import modeguard as mg


def cnn() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.3), nn.Linear(64 * 8 * 8, 10))


def mlp() -> nn.Module:
    return nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Dropout(0.1), nn.Linear(64, 10))


def make_step(model: nn.Module, x: torch.Tensor, y: torch.Tensor):  # type: ignore[no-untyped-def]
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()

    def step() -> None:
        model.train()
        loss = loss_fn(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return step


def block(step, n: int) -> float:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    for _ in range(n):
        step()
    return (time.perf_counter() - t0) / n


def measure(model: nn.Module, x: torch.Tensor, y: torch.Tensor, reps: int, steps: int) -> dict:
    """Steady-state step time. Every block (watched or not) first runs `steps // 2` untimed
    steps, so a watcher's one-time start (watch() scans the live objects once) and cache
    warm-up are not counted as per-step overhead; the start time is reported on its own."""
    step = make_step(model, x, y)
    for _ in range(steps):  # warm-up
        step()
    warm = max(steps // 2, 1)
    times: dict[str, list[float]] = {"off": [], "watch(model)": [], "watch()": []}
    starts: list[float] = []
    variants = list(times)
    for rep in range(reps):
        order = variants if rep % 2 == 0 else variants[::-1]
        for name in order:
            if name == "off":
                block(step, warm)
                times[name].append(block(step, steps))
            else:
                t0 = time.perf_counter()
                w = mg.watch(model if name == "watch(model)" else None).start()
                if name == "watch()":
                    starts.append(time.perf_counter() - t0)
                block(step, warm)
                times[name].append(block(step, steps))
                w.stop()
                assert not w.findings, w.summary()
    med = {k: statistics.median(v) for k, v in times.items()}
    return {k: med[k] / med["off"] - 1 for k in ("watch(model)", "watch()")} | {
        "step_ms": med["off"] * 1e3, "start_ms": statistics.median(starts) * 1e3}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=30)
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    rows = [
        ("(a) small CNN, BatchNorm + Dropout, batch 32", cnn(), torch.randn(32, 3, 32, 32),
         torch.randint(0, 10, (32,))),
        ("(b) tiny MLP, batch 32", mlp(), torch.randn(32, 32), torch.randint(0, 10, (32,))),
    ]
    print(f"torch {torch.__version__}, 1 thread, {args.reps} interleaved repetitions of "
          f"{args.steps} steps, medians")
    print()
    print("| workload | step time without (ms) | overhead watch(model) | overhead watch() "
          "| watch() start, once (ms) |")
    print("|---|---|---|---|---|")
    for label, model, x, y in rows:
        r = measure(model, x, y, args.reps, args.steps)
        print(f"| {label} | {r['step_ms']:.2f} | {r['watch(model)']:+.1%} | {r['watch()']:+.1%} "
              f"| {r['start_ms']:.1f} |")


if __name__ == "__main__":
    main()
