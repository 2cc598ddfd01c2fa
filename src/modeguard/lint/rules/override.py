"""MG104: broken train() overrides and methods shadowed by attributes."""

from __future__ import annotations

import ast
from typing import Iterator

from modeguard.findings import Finding
from modeguard.lint.astutil import looks_like_module, self_attr
from modeguard.lint.source import SourceFile

_SHADOWABLE = ("train", "eval", "forward", "freeze_bn", "unfreeze_bn", "requires_grad_")


def _calls_super_train(func: ast.FunctionDef) -> bool:
    for node in ast.walk(func):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr == "train":
            return True  # super().train(mode), nn.Module.train(self, mode), child.train(mode)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr in ("children", "modules", "apply"):
            return True
    return False


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
    if not _calls_super_train(func):
        problems.append("does not call super().train(mode) (children keep their mode)")
    if not _returns_self(func):
        problems.append("does not return self (model.train().to(device) breaks)")
    if problems:
        yield Finding("MG104", f"{cls.name}.train() " + "; ".join(problems),
                      path=src.path, line=func.lineno, col=func.col_offset,
                      hint="def train(self, mode=True): super().train(mode); ...; return self")
