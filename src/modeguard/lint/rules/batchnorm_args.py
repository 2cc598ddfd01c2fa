"""MG303: Keras-style BatchNorm momentum."""

from __future__ import annotations

import ast
from typing import Iterator

from modeguard.findings import Finding
from modeguard.lint.astutil import arg, call_name
from modeguard.lint.source import SourceFile

_BN = {f"torch.nn.{n}" for n in ("BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm",
                                  "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d")}
_LAZY = {f"torch.nn.{n}" for n in ("LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d")}
_ALIASES = ("torch.nn.modules.batchnorm.", "torch.nn.modules.instancenorm.")


def _normal(name: str) -> str:
    for prefix in _ALIASES:
        if name.startswith(prefix):
            return "torch.nn." + name[len(prefix):]
    return name


def _module_constants(src: SourceFile) -> dict[str, ast.Constant]:
    """Names the module binds once, at top level, to a number (``BN_DECAY = 0.99``)."""
    seen: dict[str, ast.expr] = {}
    twice: set[str] = set()
    for stmt in src.tree.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and \
                isinstance(stmt.targets[0], ast.Name):
            name = stmt.targets[0].id
            (twice.add(name) if name in seen else seen.__setitem__(name, stmt.value))
    return {n: v for n, v in seen.items() if n not in twice and isinstance(v, ast.Constant)}


def _default_of(src: SourceFile, node: ast.Call, name: str) -> ast.expr | None:
    """The constant default of parameter ``name`` of the innermost function around ``node``."""
    around = [f for kind in (ast.FunctionDef, ast.AsyncFunctionDef) for f in src.of(kind)
              if f.lineno <= node.lineno <= (f.end_lineno or f.lineno)]
    if not around:
        return None
    args = min(around, key=lambda f: (f.end_lineno or f.lineno) - f.lineno).args
    positional = args.posonlyargs + args.args
    pairs = list(zip(positional[len(positional) - len(args.defaults):], args.defaults)) + [
        (a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None]
    return next((d for a, d in pairs if a.arg == name and isinstance(d, ast.Constant)), None)


def check(src: SourceFile) -> Iterator[Finding]:
    imports = src.imports
    constants: dict[str, ast.Constant] | None = None
    for node in src.of(ast.Call):
        name = call_name(node, imports)
        if name is None:
            continue
        name = _normal(name)
        if name in _BN:
            momentum = arg(node, "momentum", 2)
        elif name in _LAZY:
            momentum = arg(node, "momentum", 1)
        else:
            continue
        if isinstance(momentum, ast.Name):
            # momentum=BN_DECAY, a module constant, or momentum=bn_momentum, a parameter of the
            # function around the call with a constant default
            constants = _module_constants(src) if constants is None else constants
            momentum = _default_of(src, node, momentum.id) or \
                constants.get(momentum.id, momentum)
        if isinstance(momentum, ast.Constant) and isinstance(momentum.value, (int, float)) \
                and not isinstance(momentum.value, bool) and 0.5 <= momentum.value < 1:
            # momentum=1 (only the current batch) is a deliberate PyTorch idiom, not Keras's
            m = momentum.value
            yield Finding(
                "MG303",
                f"{name.rsplit('.', 1)[1]}(momentum={m}) looks like a Keras/TensorFlow value: in "
                f"PyTorch momentum is the weight of the new batch, so {m} makes the running "
                "statistics follow the last batch",
                path=src.path, line=node.lineno, col=node.col_offset,
                hint=f"use momentum={round(1 - m, 6)} (PyTorch convention), or omit it for 0.1")
