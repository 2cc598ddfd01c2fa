"""MG104: broken train() overrides and methods shadowed by attributes."""

from __future__ import annotations

import ast
from typing import Iterator

from modeguard.findings import Finding
from modeguard.lint.astutil import dotted, looks_like_module, self_attr
from modeguard.lint.source import SourceFile

_SHADOWABLE = ("train", "eval", "forward", "freeze_bn", "unfreeze_bn", "requires_grad_")


_SENSITIVE_TEXT = ("BatchNorm", "Dropout", "SyncBatchNorm")


def _recursion_problem(src: SourceFile, cls: ast.ClassDef, func: ast.FunctionDef) -> str | None:
    """What the override fails to switch: nothing (``super().train(mode)``, a loop over
    ``self.children()``, ``apply``), or the submodules with dropout or BatchNorm that it leaves
    out when it only switches some of them by name (``self.encoder.train(mode)``)."""
    switched: set[str] = set()
    for node in ast.walk(func):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        if node.func.attr in ("children", "modules", "apply", "named_children",
                              "named_modules"):
            return None
        if node.func.attr == "train":
            target = dotted(node.func.value) or ""
            if not target.startswith("self.") or target.count(".") != 1:
                return None  # super().train(mode), nn.Module.train(self, mode), a loop variable
            switched.add(target[5:])
    if not switched:
        return "does not call super().train(mode) (children keep their mode)"
    init = next((i for i in cls.body if isinstance(i, ast.FunctionDef) and i.name == "__init__"),
                None)
    left = sorted({attr for node in (src.within(init, ast.Assign) if init else ())
                   for t in node.targets if (attr := self_attr(t)) is not None and
                   attr not in switched and isinstance(node.value, ast.Call) and
                   any(w in src.text_of(node.value) for w in _SENSITIVE_TEXT)})
    if left:
        return (f"switches only self.{', self.'.join(sorted(switched))}: self."
                f"{', self.'.join(left)} (dropout/BatchNorm) keep their mode")
    return None


def _returns_self(func: ast.FunctionDef) -> bool:
    returns = [n for n in ast.walk(func) if isinstance(n, ast.Return)]
    if not returns:
        return False
    assigned_from_train: set[str] = set()
    for node in ast.walk(func):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) \
                and isinstance(node.value.func, ast.Attribute) and node.value.func.attr == "train":
            assigned_from_train.update(t.id for t in node.targets if isinstance(t, ast.Name))
    for r in returns:
        v = r.value
        if isinstance(v, ast.Name) and (v.id == "self" or v.id in assigned_from_train):
            continue
        if isinstance(v, ast.Call) and isinstance(v.func, ast.Attribute) and \
                v.func.attr == "train":
            continue
        return False
    return True


def check(src: SourceFile) -> Iterator[Finding]:
    for cls in src.of(ast.ClassDef):
        if not looks_like_module(cls):
            continue
        defined = {i.name for i in cls.body if isinstance(i, (ast.FunctionDef,
                                                                ast.AsyncFunctionDef))}
        for item in cls.body:
            if isinstance(item, ast.FunctionDef) and item.name == "train":
                yield from _check_train(src, cls, item)
        for node in src.within(cls, ast.Assign):
            for t in node.targets:
                attr = self_attr(t)
                if attr is not None and (attr in ("train", "eval") or
                                         (attr in defined and attr in _SHADOWABLE)):
                    yield Finding(
                        "MG104",
                        f"self.{attr} = ... shadows the method {attr}(): calling it later calls "
                        "the attribute instead",
                        path=src.path, line=node.lineno, col=node.col_offset,
                        hint=f"rename the attribute (e.g. self.{attr}_enabled)")


def _check_train(src: SourceFile, cls: ast.ClassDef, func: ast.FunctionDef) -> Iterator[Finding]:
    args = func.args
    params = [a.arg for a in args.posonlyargs + args.args][1:] + [a.arg for a in args.kwonlyargs]
    problems = []
    if not params and args.vararg is None:
        problems.append("takes no mode argument (model.eval() calls train(False))")
    recursion = _recursion_problem(src, cls, func)
    if recursion:
        problems.append(recursion)
    if not _returns_self(func):
        problems.append("does not return self (model.train().to(device) breaks)")
    if problems:
        yield Finding("MG104", f"{cls.name}.train() " + "; ".join(problems),
                      path=src.path, line=func.lineno, col=func.col_offset,
                      hint="def train(self, mode=True): super().train(mode); ...; return self")
