"""MG201 functional dropout not gated, MG202 attention dropout not gated, MG203 mode-dependent
state mutation in forward."""

from __future__ import annotations

import ast
import re
from typing import Iterator

from modeguard.findings import Finding, Severity
from modeguard.lint.astutil import (arg, call_name, dotted, is_zero, keyword, looks_like_module,
                                    mentions_training, methods, parameters, self_attr)
from modeguard.lint.source import SourceFile

_FUNCTIONAL = {f"torch.nn.functional.{n}": n for n in (
    "dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout")}
_FUNCTIONAL.update({f"torch.{n}": n for n in ("dropout", "alpha_dropout",
                                              "feature_alpha_dropout")})
# attention calls: qualified-name suffix -> (dropout keyword, its position)
_ATTENTION = {
    "torch.nn.functional.scaled_dot_product_attention": ("dropout_p", 4),
    "flash_attn_func": ("dropout_p", 3),
    "flash_attn_qkvpacked_func": ("dropout_p", 1),
    "flash_attn_kvpacked_func": ("dropout_p", 2),
    "flash_attn_varlen_func": ("dropout_p", 7),
    "flash_attn_varlen_qkvpacked_func": ("dropout_p", 3),
    "xformers.ops.memory_efficient_attention": ("p", 4),
}


def _attention_spec(name: str) -> tuple[str, int] | None:
    if name in _ATTENTION:
        return _ATTENTION[name]
    tail = name.rsplit(".", 1)[-1]
    if tail.startswith("flash_attn") and tail in _ATTENTION and "flash_attn" in name:
        return _ATTENTION[tail]
    if name.endswith(".memory_efficient_attention") and "xformers" in name:
        return _ATTENTION["xformers.ops.memory_efficient_attention"]
    return None


class _Gates:
    """Names assigned from training-gated expressions, and calls under `if self.training`."""

    def __init__(self, src: SourceFile, func: ast.AST, cls: ast.ClassDef) -> None:
        self.src, self.func = src, func
        self.gated_names: set[str] = set()
        # methods of the class that return a training-gated value (def _p(self): return
        # self.p if self.training else 0.0)
        self.gated_methods = {m.name for m in cls.body if isinstance(m, ast.FunctionDef) and
                              any(r.value is not None and mentions_training(r.value)
                                  for r in src.within(m, ast.Return))}
        self.guarded: set[int] = set()  # id() of calls inside a branch that tests training
        self.in_branch: set[int] = set()  # id() of assignments inside such a branch
        # every training flag mentions_training() knows has "train" in its name
        reads_flag = "train" in src.text_of(func)
        for node in src.within(func, ast.Assign):
            if is_zero(node.value) or reads_flag and mentions_training(node.value):
                self.gated_names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        for node in src.within(func, ast.If) if reads_flag else ():
            if mentions_training(node.test):
                for stmt in node.body + node.orelse:
                    self.guarded.update(id(c) for c in src.within(stmt, ast.Call))
                    # `if not self.training: self.dropout_p = 0.0` gates the attribute (by
                    # mutating it: that is MG203's finding, not a second one here)
                    self.gated_names.update(f"self.{a}" for n in src.within(stmt, ast.Assign)
                                            for t in n.targets if (a := self_attr(t)))
                    self.in_branch.update(id(n) for n in src.within(stmt, ast.Assign))
                    # `if self.training: p = self.p` / `else: p = 0.0`: a local chosen by mode
                    self.gated_names.update(t.id for n in src.within(stmt, ast.Assign)
                                            for t in n.targets if isinstance(t, ast.Name))


def _gated(expr: ast.expr | None, gates: _Gates) -> bool:
    if expr is None:
        return False
    if is_zero(expr) or mentions_training(expr):
        return True
    if isinstance(expr, ast.Attribute):
        return f"self.{self_attr(expr)}" in gates.gated_names
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute) and \
            dotted(expr.func.value) == "self":
        return expr.func.attr in gates.gated_methods  # dropout_p=self._p()
    return isinstance(expr, ast.Name) and expr.id in gates.gated_names


def check(src: SourceFile) -> Iterator[Finding]:
    imports = src.imports
    for cls, func in methods(src.of(ast.ClassDef)):
        if not looks_like_module(cls):
            continue  # gating on self.training only makes sense in an nn.Module
        gates: _Gates | None = None  # built only for methods that call dropout or attention
        for node in src.within(func, ast.Call):
            name = call_name(node, imports) or dotted(node.func)
            if name is None:
                continue
            spec = None if name in _FUNCTIONAL else _attention_spec(name)
            if spec is None and name not in _FUNCTIONAL:
                if func.name != "__init__" and _passes_dropout_p(node, name):
                    if gates is None:
                        gates = _Gates(src, func, cls)
                        gates.gated_names |= parameters(func) - {"self"}
                    yield from _attention(src, node, name, ("dropout_p", -1), gates, known=False)
                continue
            if gates is None:
                gates = _Gates(src, func, cls)
                gates.gated_names |= parameters(func) - {"self"}  # passed in: the caller decides
            if spec is None:
                yield from _functional(src, node, _FUNCTIONAL[name], gates)
            else:
                yield from _attention(src, node, name, spec, gates)
        if func.name == "forward":
            yield from _mutation(src, cls, func)


def _functional(src: SourceFile, node: ast.Call, short: str, gates: _Gates) -> Iterator[Finding]:
    training = arg(node, "training", 2)
    p = arg(node, "p", 1)
    if p is not None and is_zero(p):
        return
    if training is None:
        if id(node) in gates.guarded:
            return
        msg = (f"F.{short}() without training=: it defaults to training=True and keeps dropping "
               "in eval mode")
    elif isinstance(training, ast.Constant) and training.value is True:
        if id(node) in gates.guarded:
            return  # inside `if self.training:`: True is what the mode says
        if _says_deliberate(src, node):
            return  # `training=True  # intentional: on at inference too` (Tacotron's prenet)
        msg = f"F.{short}(..., training=True) drops in eval mode too"
    else:
        return
    yield Finding("MG201", msg, path=src.path, line=node.lineno, col=node.col_offset,
                  hint="pass training=self.training (or use an nn.Dropout module)")


_DELIBERATE = re.compile(r"#.*\b(intentional|intended|deliberate|on purpose|always[- ]on|"
                         r"at inference|inference too|mc[- ]dropout|monte[- ]carlo)", re.I)


def _says_deliberate(src: SourceFile, node: ast.Call) -> bool:
    """An explicit ``training=True`` whose line (or the line above) says in a comment that it
    is meant to stay on at inference: a documented choice, like a ``# noqa``."""
    return any(_DELIBERATE.search(src.line_text(n))
               for n in range(node.lineno - 1, (node.end_lineno or node.lineno) + 1))


def _passes_dropout_p(node: ast.Call, name: str) -> bool:
    """A call to an unknown function (an attention wrapper such as ``self._attention_call``)
    with SDPA's ``dropout_p=`` keyword and no ``training=`` of its own; not a constructor."""
    return any(k.arg == "dropout_p" for k in node.keywords) and \
        not any(k.arg == "training" for k in node.keywords) and \
        not name.rsplit(".", 1)[-1][:1].isupper()


def _attention(src: SourceFile, node: ast.Call, name: str, spec: tuple[str, int],
               gates: _Gates, known: bool = True) -> Iterator[Finding]:
    kw, pos = spec
    value = arg(node, kw, pos) if pos >= 0 else keyword(node, kw)
    if value is None:
        value = _splatted(node, kw, gates)
    if value is None or _gated(value, gates) or id(node) in gates.guarded:
        return
    if isinstance(value, ast.Constant) and not isinstance(value.value, (int, float)):
        return
    short = name.rsplit(".", 1)[-1]
    what = "attention dropout stays on" if known else \
        f"if {short}() hands it to scaled_dot_product_attention, dropout stays on"
    yield Finding("MG202",
                  f"{short}({kw}=...) is not gated on self.training: {what} at evaluation time",
                  path=src.path, line=node.lineno, col=node.col_offset,
                  severity=None if known else Severity.WARNING,
                  hint=f"pass {kw}=p if self.training else 0.0")


def _splatted(node: ast.Call, kw: str, gates: _Gates) -> ast.expr | None:
    """``attention(q, k, v, **opts)`` with ``opts = {"dropout_p": self.p}`` (or
    ``opts["dropout_p"] = ...``) built in the same function: the value it puts there."""
    names = {k.value.id for k in node.keywords if k.arg is None and isinstance(k.value, ast.Name)}
    if not names:
        return None
    found = None
    for stmt in gates.src.within(gates.func, ast.Assign):
        for t in stmt.targets:
            if isinstance(t, ast.Name) and t.id in names and isinstance(stmt.value, ast.Dict):
                for key, value in zip(stmt.value.keys, stmt.value.values):
                    if isinstance(key, ast.Constant) and key.value == kw:
                        found = value
            elif isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name) and \
                    t.value.id in names and isinstance(t.slice, ast.Constant) and \
                    t.slice.value == kw:
                found = stmt.value
            if found is not None and id(stmt) in gates.in_branch:
                found = ast.Constant(0.0)  # set under `if self.training:`: gated
    return found


def _mutation(src: SourceFile, cls: ast.ClassDef, func: ast.AST) -> Iterator[Finding]:
    if "train" not in src.text_of(func):
        return
    # attributes forward() resets on every call (self.loss = 0 at its top) are per-call
    # results, not state that outlives the call
    reset = {attr for stmt in func.body if isinstance(stmt, (ast.Assign, ast.AnnAssign))
             for t in (stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target])
             if (attr := self_attr(t)) is not None}
    # registered buffers updated while training are statistics, as in BatchNorm itself
    # (self.num_batches_tracked += 1), not a setting one evaluation changes
    reset |= {c.args[0].value for c in src.within(cls, ast.Call)
              if isinstance(c.func, ast.Attribute) and c.func.attr == "register_buffer" and
              c.args and isinstance(c.args[0], ast.Constant) and isinstance(c.args[0].value, str)}
    for node in src.within(func, ast.If):
        if not mentions_training(node.test):
            continue
        for stmt in node.body + node.orelse:
            assigns = [a for kind in (ast.Assign, ast.AugAssign, ast.AnnAssign)
                       for a in src.within(stmt, kind)]
            for sub in assigns:
                targets = sub.targets if isinstance(sub, ast.Assign) else [sub.target]
                # self.a, self.b = 0, 0: each item of a tuple target
                targets = [e for t in targets
                           for e in (t.elts if isinstance(t, (ast.Tuple, ast.List)) else [t])]
                for t in targets:
                    attr = self_attr(t)
                    name = dotted(t) or ""
                    if attr is None and name.startswith("self.") and name.count(".") == 2:
                        attr = name[5:]  # self.head_dropout.p = 0.0: a submodule's setting
                    if attr is not None and attr.rsplit(".", 1)[-1] != "training" and \
                            attr.split(".", 1)[0] not in reset:
                        yield Finding(
                            "MG203",
                            f"forward() sets self.{attr} depending on the mode: one evaluation "
                            "changes the module for the rest of training",
                            path=src.path, line=sub.lineno, col=sub.col_offset,
                            hint=f"compute a local value instead (e.g. p = self.{attr} if "
                                 "self.training else 0.0) and leave the attribute alone")
