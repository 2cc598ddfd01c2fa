"""The linted project as a whole: which module is which file, so that calls into other linted
files can be followed. Files are parsed on demand and cached (per process)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

from modeguard.lint.source import SourceFile

current: "Project | None" = None  # set by the engine for the duration of a lint run


class Project:
    def __init__(self, paths: Iterable[str | Path]) -> None:
        from modeguard.lint.engine import _display, _module_name

        self.by_module: dict[str, Path] = {}
        for p in paths:
            path = Path(p)
            self.by_module.setdefault(_module_name(_display(path)), path)
        self._models: dict[str, Any] = {}

    def find(self, module: str) -> Path | None:
        """The file of a dotted module name; ``evaluation`` also matches ``proj/evaluation``."""
        if module in self.by_module:
            return self.by_module[module]
        suffix = "." + module
        hits = [p for name, p in self.by_module.items() if name.endswith(suffix)]
        return hits[0] if len(hits) == 1 else None

    def file_model(self, module: str) -> Any:
        """The flow model (``modeflow.FileModel``) of a linted module, or ``None``."""
        if module in self._models:
            return self._models[module]
        from modeguard.lint.engine import parse_file
        from modeguard.lint.rules.modeflow import FileModel

        path = self.find(module)
        model = None
        if path is not None:
            parsed = parse_file(path)
            if isinstance(parsed, SourceFile):
                model = FileModel(parsed, project=self)
        self._models[module] = model
        return model

    def resolve(self, qualified: str) -> tuple[Any, str] | None:
        """``("pkg.mod.func" | "pkg.mod.Class")`` -> (FileModel of pkg.mod, "func" | "Class")."""
        module, _, name = qualified.rpartition(".")
        while module:
            model = self.file_model(module)
            if model is not None:
                return model, name
            module, _, head = module.rpartition(".")
            name = f"{head}.{name}"
        return None
