"""Small ``ast`` helpers shared by the lint rules: dotted names and import aliases."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field


def dotted(node: ast.AST) -> str | None:
    """``a.b.c`` for a Name/Attribute chain, else ``None``.

    >>> dotted(ast.parse("torch.nn.functional.dropout", mode="eval").body)
    'torch.nn.functional.dropout'
    """
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


@dataclass
class ImportMap:
    """Local names bound by a file's imports, mapped to fully qualified names.

    ``import torch.nn.functional as F`` maps ``F`` to ``torch.nn.functional``;
    ``from torch.nn import functional`` maps ``functional`` to ``torch.nn.functional``;
    ``from .models import Net`` in package ``pkg`` maps ``Net`` to ``pkg.models.Net``.
    Imports anywhere in the file count (function-level imports included).
    """

    names: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_tree(cls, tree: ast.AST | list[ast.AST], module: str = "") -> "ImportMap":
        out = cls()
        package = module.rsplit(".", 1)[0] if "." in module else ""
        nodes = tree if isinstance(tree, list) else ast.walk(tree)
        for node in nodes:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        out.names[alias.asname] = alias.name
                    else:
                        top = alias.name.split(".", 1)[0]
                        out.names.setdefault(top, top)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    pkg_parts = package.split(".") if package else []
                    keep = len(pkg_parts) - (node.level - 1)
                    prefix = ".".join(pkg_parts[:max(keep, 0)])
                    base = ".".join(p for p in (prefix, base) if p)
                for alias in node.names:
                    if alias.name == "*":
                        continue
                    full = f"{base}.{alias.name}" if base else alias.name
                    out.names[alias.asname or alias.name] = full
        return out

    def resolve(self, node: ast.AST) -> str | None:
        """Fully qualified name of a Name/Attribute chain, through the imports.

        Names not bound by an import are returned as written.
        """
        name = dotted(node)
        if name is None:
            return None
        head, _, rest = name.partition(".")
        full = self.names.get(head)
        if full is None:
            return name
        return f"{full}.{rest}" if rest else full


def call_name(call: ast.Call, imports: ImportMap) -> str | None:
    """Qualified name of the called function (``torch.nn.functional.dropout``), if static."""
    return imports.resolve(call.func)


def keyword(call: ast.Call, name: str) -> ast.expr | None:
    """The value of keyword argument ``name`` in ``call``, if given."""
    for kw in call.keywords:
        if kw.arg == name:
            return kw.value
    return None


def mentions_training(node: ast.AST) -> bool:
    """Whether an expression reads a ``training`` flag (``self.training``, ``training``, ...)."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Attribute) and sub.attr in ("training", "train_mode"):
            return True
        if isinstance(sub, ast.Name) and sub.id in ("training", "is_training", "train_mode"):
            return True
    return False


def is_zero(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and not isinstance(node.value, bool) \
        and node.value in (0, 0.0)


def arg(call: ast.Call, name: str, position: int) -> ast.expr | None:
    """Argument ``name`` of ``call``, given by keyword or at ``position``."""
    value = keyword(call, name)
    if value is not None:
        return value
    if position < len(call.args) and not any(isinstance(a, ast.Starred)
                                             for a in call.args[:position + 1]):
        return call.args[position]
    return None


def methods(tree: ast.AST | list[ast.AST]):  # type: ignore[no-untyped-def]
    """``(class, function)`` for every method defined directly in a class body.

    ``tree`` may also be a list of class nodes (``SourceFile.of(ast.ClassDef)``).
    """
    for node in (tree if isinstance(tree, list) else ast.walk(tree)):
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    yield node, item


def self_attr(node: ast.AST) -> str | None:
    """``x`` for ``self.x``."""
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
            and node.value.id == "self":
        return node.attr
    return None


def looks_like_module(cls: ast.ClassDef) -> bool:
    """A class that is (probably) an ``nn.Module``: its base names one, or it has ``forward``."""
    for base in cls.bases:
        name = dotted(base) or ""
        if name.endswith(("Module", "Model", "Layer", "Block")) or name.startswith("nn.") \
                or ".nn." in name:
            return True
    return any(isinstance(i, (ast.FunctionDef, ast.AsyncFunctionDef)) and i.name == "forward"
               for i in cls.body)


def parameters(func: ast.AST) -> set[str]:
    args = getattr(func, "args", None)
    if args is None:
        return set()
    names = [a.arg for a in args.posonlyargs + args.args + args.kwonlyargs]
    names += [a.arg for a in (args.vararg, args.kwarg) if a is not None]
    return set(names)
