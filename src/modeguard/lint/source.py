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
        """Every node of the tree (``ast.walk`` order)."""
        return list(ast.walk(self.tree))

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
