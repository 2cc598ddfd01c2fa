"""A parsed source file: what every lint rule receives."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field


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


# Rule signatures (implemented in modeguard.lint.rules):
#   per-file rules:     def check(src: SourceFile) -> Iterable[Finding]
#   project-wide rules: def check_project(files: Sequence[SourceFile]) -> Iterable[Finding]
# Findings carry path/line/col of the primary site; the engine applies noqa,
# select/ignore and per-file-ignores afterwards, so rules report everything.
