"""Lint throughput: modeguard vs TorchFix vs pylint, on the same files, one run.

Corpus (`--corpus`), always plus modeguard's fixture corpus `tests/lint_corpus`:
`nn` (default) = the installed `torch/nn` package (136 files); `nn-modules` = only
`torch/nn/modules/*.py` (28 large files, the figure quoted in issue 5); `torch` = every .py file
of the installed torch package (issue 5's corpus: impractical here, TorchFix alone ran for more
than 10 minutes single-job on it before we stopped it, and pylint is slower still). Each tool runs
as its own console script (what a user or CI runs: start-up included), single job and with all
cores, repetitions interleaved; median wall time; every tool's modules byte-compiled; files/s
and throughput ratios against modeguard. pylint runs with its default checkers: the dslinter plugin does not install on
Python 3.11 here (its build fails on an old `wrapt`), so plain pylint stands in for it.

Run:  .venv/bin/pip install -e ".[bench]" && .venv/bin/python benchmarks/lint_speed.py \
          [--corpus nn|nn-modules|torch] [--reps 3] [--single-job] [--timeout SECONDS]
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def corpus(kind: str) -> list[str]:
    base = Path(torch.__file__).parent
    sources = {"torch": lambda: sorted(base.rglob("*.py")),
               "nn": lambda: sorted((base / "nn").rglob("*.py")),
               "nn-modules": lambda: sorted((base / "nn" / "modules").glob("*.py"))}[kind]()
    fixtures = sorted((ROOT / "tests" / "lint_corpus").rglob("*.py"))
    return [str(p) for p in sources + fixtures]


def commands(files: list[str], jobs: int) -> dict[str, list[str]]:
    cores = str(os.cpu_count() or 1)
    j = "1" if jobs == 1 else cores
    return {
        "modeguard": [str(BIN / "modeguard"), "lint", "--select", "ALL", "--jobs",
                      "1" if jobs == 1 else "0", *files],
        "torchfix": [str(BIN / "torchfix"), "--select", "ALL", "--jobs", j, *files],
        "pylint": [str(BIN / "pylint"), "--jobs", "1" if jobs == 1 else "0",
                   "--persistent=n", "--score=n", *files],
    }


def run(cmd: list[str], timeout: float | None = None) -> tuple[float, bool]:
    """Wall time of one command, and whether it finished (False: stopped at ``timeout``)."""
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return time.perf_counter() - t0, False
    dt = time.perf_counter() - t0
    if proc.returncode not in (0, 1, 2, 4, 8, 16, 20, 22, 28, 30, 32) or "Traceback" in proc.stderr:
        raise RuntimeError(f"{cmd[0]} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return dt, True


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--corpus", choices=["nn", "nn-modules", "torch"], default="nn")
    parser.add_argument("--single-job", action="store_true", help="skip the all-cores runs")
    parser.add_argument("--timeout", type=float, default=None,
                        help="stop a command after this many seconds; its time is then a "
                             "lower bound (reported as '> T') and so is the ratio")
    args = parser.parse_args()
    for tool in ("modeguard", "torchfix", "pylint"):
        if not (BIN / tool).exists() and not shutil.which(tool):
            sys.exit(f"{tool} is not installed: pip install -e '.[bench]'")
    files = corpus(args.corpus)
    # every tool runs from byte-compiled modules, as pip leaves an installed package (an
    # editable install of modeguard would otherwise recompile it on every run when
    # PYTHONDONTWRITEBYTECODE is set)
    compileall.compile_dir(str(ROOT / "src" / "modeguard"), quiet=1)
    print(f"corpus {args.corpus}: {len(files)} files; machine: {os.cpu_count()} cores; python {sys.version.split()[0]}; "
          f"{args.reps} interleaved repetitions, median wall time of the whole command")
    print()
    print("| jobs | tool | seconds | files/s | modeguard throughput / tool |")
    print("|---|---|---|---|---|")
    for jobs in (1,) if args.single_job else (1, 0):
        cmds = commands(files, jobs)
        times: dict[str, list[float]] = {name: [] for name in cmds}
        stopped: set[str] = set()
        for rep in range(args.reps):
            names = list(cmds)
            for name in names[rep % 3:] + names[:rep % 3]:
                dt, finished = run(cmds[name], args.timeout)
                times[name].append(dt)
                if not finished:
                    stopped.add(name)
        med = {k: statistics.median(v) for k, v in times.items()}
        label = "1" if jobs == 1 else f"all ({os.cpu_count()})"
        for name, t in med.items():
            more = "> " if name in stopped else ""
            ratio = "-" if name == "modeguard" else f"{more}{t / med['modeguard']:.0f}x"
            print(f"| {label} | {name} | {more}{t:.2f} | {'< ' if more else ''}"
                  f"{len(files) / t:.1f} | {ratio} |", flush=True)


if __name__ == "__main__":
    main()
