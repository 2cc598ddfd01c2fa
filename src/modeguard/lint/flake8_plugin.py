"""flake8 plugin: the same findings under the ``MG`` prefix.

flake8 gives the plugin one file at a time, so calls are followed within that file.
"""

from __future__ import annotations

import ast
from typing import Any, Iterator

from modeguard import __version__
from modeguard.lint.engine import check_file, parse_source
from modeguard.lint.source import SourceFile


class ModeguardChecker:
    name = "modeguard"
    version = __version__

    def __init__(self, tree: ast.AST, filename: str = "<stdin>", lines: list[str] | None = None
                 ) -> None:
        self.tree = tree
        self.filename = filename
        self.lines = lines

    def run(self) -> Iterator[tuple[int, int, str, type[Any]]]:
        if self.lines is not None:
            source = "".join(self.lines)
        else:
            try:
                with open(self.filename, "rb") as fh:
                    parsed = parse_source(fh.read(), self.filename)
            except OSError:
                return
            if not isinstance(parsed, SourceFile):
                return
            source = parsed.source
        src = SourceFile(self.filename, source, self.tree, "")  # type: ignore[arg-type]
        findings, _ = check_file(src)
        for f in findings:
            if f.rule.default:
                yield (f.line or 1, f.col, f"{f.code} {f.message}", type(self))
