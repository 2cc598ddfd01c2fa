"""A parsed source file: what every lint rule receives."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any


@dataclass
class SourceFile:
    """One Python file, read and parsed once.

    ``path`` is the path as displayed in findings (relative to where lint was
    started when possible); ``module`` is the dotted module name guessed from the
    path (``pkg/sub/mod.py`` -> ``pkg.sub.mod``), used to resolve imports between
    linted files.
    """

    path: str
    source: str
    tree: ast.Module
    module: str = ""
    lines: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.lines:
            self.lines = self.source.splitlines()

    def line_text(self, lineno: int) -> str:
        return self.lines[lineno - 1] if 0 < lineno <= len(self.lines) else ""

    # Computed once per file and shared by every rule: the tree is walked a single time.

    @cached_property
    def nodes(self) -> list[ast.AST]:
        """Every node of the tree (depth first, parents before children)."""
        return self._index[0]

    @cached_property
    def calls_by_statement(self) -> dict[int, list[ast.Call]]:
        """``id(statement)`` -> the calls in that statement's own expressions (not in nested
        statements), innermost (argument) calls first: the order they run in."""
        return self._index[1]

    @cached_property
    def calls_by_scope(self) -> dict[int, list[ast.Call]]:
        """``id(module or def)`` -> the calls directly in its body (nested defs excluded)."""
        return self._index[2]

    @cached_property
    def _index(self) -> tuple[list[ast.AST], dict[int, list[ast.Call]], dict[int, list[ast.Call]]]:
        # one pass over the tree for everything the rules need (ast.walk is slow)
        nodes: list[ast.AST] = []
        by_stmt: dict[int, list[ast.Call]] = {}
        by_scope: dict[int, list[ast.Call]] = {}
        AST, Call, Stmt = ast.AST, ast.Call, ast.stmt
        defs = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
        stack: list[tuple[ast.AST, int, int]] = [(self.tree, 0, id(self.tree))]
        pop, push, add = stack.pop, stack.append, nodes.append
        while stack:
            node, owner, scope = pop()
            add(node)
            if isinstance(node, Stmt):
                owner = id(node)
            elif isinstance(node, Call):
                by_stmt.setdefault(owner, []).append(node)
                by_scope.setdefault(scope, []).append(node)
            # a definition's body statements are its own scope; decorators and defaults are not
            inner = id(node) if isinstance(node, defs) else scope
            for name in node._fields:
                value = getattr(node, name, None)
                if isinstance(value, list):
                    for item in value:
                        if isinstance(item, AST):
                            push((item, owner, inner if isinstance(item, Stmt) else scope))
                elif isinstance(value, AST):
                    push((value, owner, scope))
        for calls in by_stmt.values():
            calls.sort(key=lambda c: (c.lineno, c.col_offset), reverse=True)
        return nodes, by_stmt, by_scope

    @cached_property
    def _by_type(self) -> dict[type, list[Any]]:
        out: dict[type, list[Any]] = {}
        for node in self.nodes:
            out.setdefault(type(node), []).append(node)
        return out

    def of(self, *types: type) -> list[Any]:
        """The nodes of the given types, in walk order."""
        if len(types) == 1:
            return self._by_type.get(types[0], [])
        return [n for n in self.nodes if isinstance(n, types)]

    @cached_property
    def imports(self) -> Any:
        """The file's :class:`~modeguard.lint.astutil.ImportMap`."""
        from modeguard.lint.astutil import ImportMap
        return ImportMap.from_tree(self.of(ast.Import) + self.of(ast.ImportFrom), self.module)


# Rule signatures (implemented in modeguard.lint.rules):
#   per-file rules:     def check(src: SourceFile) -> Iterable[Finding]
#   project-wide rules: def check_project(files: Sequence[SourceFile]) -> Iterable[Finding]
# Findings carry path/line/col of the primary site; the engine applies noqa,
# select/ignore and per-file-ignores afterwards, so rules report everything.
