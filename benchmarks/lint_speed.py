"""Lint throughput: modeguard vs TorchFix vs pylint, on the same files, one run.

Corpus (`--corpus`), always plus modeguard's fixture corpus `tests/lint_corpus`:
`nn` (default) = the installed `torch/nn` package (136 files); `nn-modules` = only
`torch/nn/modules/*.py` (28 large files, the figure quoted in issue 5); `torch` = every .py file
of the installed torch package (issue 5's corpus; single job, TorchFix and pylint take tens of
minutes each on it). Each tool runs as its own console script (what a user or CI runs: start-up
included), single job and with all cores, every tool's modules byte-compiled; files/s and
throughput ratios against modeguard. modeguard is fast enough to be timed before every anchor
run and once more at the end, so its median comes from runs spread over the whole benchmark
(the machine's speed drifts over a long run). A reference row, `ast.parse only`, is one Python
process that reads and parses every file with the standard library and does nothing else
(automatic garbage collection off, as modeguard runs): the floor of any linter that parses each
file into a Python syntax tree. pylint runs with its default checkers: the dslinter plugin does
not install on Python 3.11 here (its build fails on an old `wrapt`), so plain pylint stands in
for it.

Run:  .venv/bin/pip install -e ".[bench]" && .venv/bin/python benchmarks/lint_speed.py \
          [--corpus nn|nn-modules|torch] [--reps 3] [--single-job] [--timeout SECONDS] \
          [--tools torchfix,pylint]
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


PARSE_ONLY = """
import ast, gc, sys
gc.disable()
for name in open(sys.argv[1]).read().splitlines():
    with open(name, "rb") as fh:
        data = fh.read()
    try:
        ast.parse(data)
    except (SyntaxError, ValueError):
        pass
"""


def commands(files: list[str], jobs: int, listing: str) -> dict[str, list[str]]:
    cores = str(os.cpu_count() or 1)
    j = "1" if jobs == 1 else cores
    cmds = {
        "modeguard": [str(BIN / "modeguard"), "lint", "--select", "ALL", "--jobs",
                      "1" if jobs == 1 else "0", *files],
        "torchfix": [str(BIN / "torchfix"), "--select", "ALL", "--jobs", j, *files],
        "pylint": [str(BIN / "pylint"), "--jobs", "1" if jobs == 1 else "0",
                   "--persistent=n", "--score=n", *files],
    }
    if jobs == 1:
        cmds["ast.parse only"] = [sys.executable, "-c", PARSE_ONLY, listing]
    return cmds


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
    parser.add_argument("--tools", default="torchfix,pylint",
                        help="anchors to time against modeguard, comma-separated "
                             "(default: torchfix,pylint)")
    args = parser.parse_args()
    anchors = [t.strip() for t in args.tools.split(",") if t.strip()]
    if not anchors or any(t not in ("torchfix", "pylint") for t in anchors):
        parser.error("--tools takes torchfix and/or pylint")
    for tool in ("modeguard", *anchors):
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
    listing = ROOT / "benchmarks" / ".lint_speed_files.txt"
    listing.write_text("\n".join(files) + "\n")
    for jobs in (1,) if args.single_job else (1, 0):
        cmds = {name: cmd for name, cmd in commands(files, jobs, str(listing)).items()
                if name in ("modeguard", "ast.parse only", *anchors)}
        times: dict[str, list[float]] = {name: [] for name in cmds}
        stopped: set[str] = set()
        others = [name for name in cmds if name != "modeguard"]
        for rep in range(args.reps):
            for name in others[rep % len(others):] + others[:rep % len(others)]:
                for tool in ("modeguard", name):
                    dt, finished = run(cmds[tool], args.timeout)
                    times[tool].append(dt)
                    if not finished:
                        stopped.add(tool)
        times["modeguard"].append(run(cmds["modeguard"], args.timeout)[0])
        med = {k: statistics.median(v) for k, v in times.items()}
        label = "1" if jobs == 1 else f"all ({os.cpu_count()})"
        for name, t in med.items():
            more = "> " if name in stopped else ""
            r = t / med["modeguard"]
            ratio = "-" if name == "modeguard" else f"{more}{r:.0f}x" if r >= 10 else f"{r:.2f}x"
            runs = f" ({len(times[name])} runs, {min(times[name]):.2f}-{max(times[name]):.2f})" \
                if len(times[name]) > 1 else ""
            print(f"| {label} | {name} | {more}{t:.2f}{runs} | {'< ' if more else ''}"
                  f"{len(files) / t:.1f} | {ratio} |", flush=True)
    listing.unlink()

if __name__ == "__main__":
    main()
