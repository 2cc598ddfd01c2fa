"""The linted project as a whole: which module is which file, so that calls into other linted
files can be followed. Files are parsed on demand and cached (per process)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable, Iterable

from modeguard.lint.source import SourceFile

current: "Project | None" = None  # set by the engine for the duration of a lint run
# what a file needs to be worth following into: mode changes or steps ("mode"), and for a
# call to an evaluation function, evaluation code too ("eval")
_FLOW_TRIGGERS = {
    "mode": (".eval(", ".train(", ".step(", ".backward(", "_start("),
    # a call whose result is assigned: also a loader that gives a new module trained weights
    # (and returns it in training mode)
    "factory": (".eval(", ".train(", ".step(", ".backward(", "_start(", ".load_state_dict("),
    "eval": (".eval(", ".train(", ".step(", ".backward(", "_start(", "no_grad",
             "inference_mode", "def eval", "def val", "def test", "def predict"),
}
STEP_TEXT = re.compile(r"\.\s*step\s*\(")  # what an optimizer step call looks like in text


class Project:
    def __init__(self, paths: Iterable[str | Path]) -> None:
        from modeguard.lint.engine import _display, _module_name

        self.by_module: dict[str, Path] = {}
        for p in paths:
            path = Path(p)
            self.by_module.setdefault(_module_name(_display(path)), path)
        self._models: dict[str, Any] = {}
        self._texts: dict[str, str | None] = {}
        self._flow: dict[str, bool] = {}
        self._mentions: dict[tuple[str, str], bool] = {}
        self._calls: dict[str, bytes] | None = None
        self._found: dict[str, Path | None] = {}
        self._tails: dict[str, list[str]] | None = None
        self._owners: dict[str, list[str]] = {}

    def find(self, module: str, near: str = "") -> Path | None:
        """The file of a dotted module name; ``evaluation`` also matches ``proj/evaluation``.
        ``near``: the importing module; a script's ``import model`` finds its sibling first."""
        if module in self.by_module:
            return self.by_module[module]
        package = near.rpartition(".")[0]
        if package and f"{package}.{module}" in self.by_module:
            return self.by_module[f"{package}.{module}"]
        if module not in self._found:
            if self._tails is None:  # last component -> module names, built once
                self._tails = {}
                for name in self.by_module:
                    self._tails.setdefault(name.rsplit(".", 1)[-1], []).append(name)
            suffix = "." + module
            hits = [n for n in self._tails.get(module.rsplit(".", 1)[-1], ())
                    if n.endswith(suffix)]
            self._found[module] = self.by_module[hits[0]] if len(hits) == 1 else None
        return self._found[module]

    def _text(self, module: str) -> str | None:
        if module not in self._texts:
            path = self.find(module)
            try:
                self._texts[module] = path.read_text(encoding="utf-8", errors="replace") \
                    if path is not None else None
            except OSError:
                self._texts[module] = None
        return self._texts[module]

    def file_model(self, module: str, flow: bool | str = False) -> Any:
        """The flow model (``modeflow.FileModel``) of a linted module, or ``None``.

        ``flow=True`` (or ``"mode"``): only if the file can change modes or step at all;
        ``flow="eval"``: or has evaluation code (a substring check before parsing, so that
        following calls into a large project stays cheap).
        """
        if flow:
            kind = "mode" if flow is True else str(flow)
            key = f"{kind}:{module}"
            if key not in self._flow:
                text = self._text(module)
                for name, triggers in _FLOW_TRIGGERS.items():
                    self._flow[f"{name}:{module}"] = text is not None and any(
                        t in text for t in triggers)
                self._texts.pop(module, None)  # the verdicts are all we keep
            if not self._flow[key]:
                return None
        if module in self._models:
            return self._models[module]
        from modeguard.lint.engine import parse_file
        from modeguard.lint.rules.modeflow import FileModel

        path = self.find(module)
        model = None
        if path is not None:
            parsed = parse_file(path)
            if isinstance(parsed, SourceFile):
                model = FileModel(parsed, project=self, nested=True)
        self._models[module] = model
        return model

    def called_elsewhere(self, name: str, module: str) -> bool:
        """Whether a linted file other than ``module``'s calls ``name(...)`` (by text: cheap and
        conservative). Files are read once, on first use."""
        self._read_all()
        assert self._calls is not None
        needle = name.encode()
        pattern = re.compile(rb"\b" + re.escape(needle) + rb"\s*\(")
        return any(pattern.search(data) for other, data in self._calls.items()
                   if other != module and needle in data)

    def _read_all(self) -> dict[str, bytes]:
        if self._calls is None:
            self._calls = {}
            for other, file in self.by_module.items():
                try:
                    with open(file, "rb") as fh:
                        self._calls[other] = fh.read()
                except OSError:
                    continue
        return self._calls

    def method_owner(self, method: str, module: str) -> tuple[Any, str] | None:
        """The one class of the linted project, in a file other than ``module``, that defines
        ``method`` (``evaluator.evaluate(model, loader)`` with an evaluator object built
        elsewhere): (FileModel of its file, "Class.method"), or None if none or several do."""
        key = f"method:{method}"
        if key not in self._owners:
            pattern = re.compile(rb"^[ \t]+(async[ \t]+)?def[ \t]+" + re.escape(method.encode()) +
                                 rb"[ \t]*\([ \t]*self\b", re.M)
            hits = [other for other, data in self._read_all().items()
                    if method.encode() in data and pattern.search(data)]
            self._owners[key] = hits
        return self._one_class(key, module, method)

    def callable_class(self, word: str, module: str) -> tuple[Any, str] | None:
        """The one class of the linted project named like ``word`` (``"evaluator"`` finds
        ``VOCMapEvaluator``) that defines ``__call__``, in a file other than ``module``:
        (FileModel, "Class.__call__") for ``self.evaluator(self.model)``; or None."""
        key = f"class:{word}"
        if key not in self._owners:
            pattern = re.compile(rb"^class[ \t]+(\w*" + re.escape(word.encode()) + rb"\w*)",
                                 re.M | re.I)
            self._owners[key] = [other for other, data in self._read_all().items()
                                 if b"__call__" in data and pattern.search(data)]
        return self._one_class(key, module, "__call__", lambda cls: word in cls.lower())

    def _one_class(self, key: str, module: str, method: str,
                   keep: Callable[[str], bool] = lambda cls: True) -> tuple[Any, str] | None:
        """The one file found for ``key`` other than ``module``, and in it the one class
        (that ``keep`` accepts) defining ``method``: (FileModel, "Class.method"), or None."""
        hits = [h for h in self._owners[key] if h != module]
        model = self.file_model(hits[0]) if len(hits) == 1 else None
        owners = [c for c in model.method_owners.get(method, []) if keep(c)] if model else []
        return (model, f"{owners[0]}.{method}") if len(owners) == 1 else None

    def builds_module(self, qualified: str, near: str = "") -> bool:
        """Whether the function ``qualified`` (``models.make_model``) looks, by its text, like
        a factory that returns a new instance of a class (``return PropertyNet(...)``, or
        ``net = Net(...)`` ... ``return net``): worth parsing its file for."""
        module, _, name = qualified.rpartition(".")
        path = self.find(module, near) if module else None
        text = self._text(module) if path is not None else None
        if not text or f"def {name}(" not in text:
            return False
        body = text.split(f"def {name}(", 1)[1]
        body = re.split(r"\n(?:def|class|@)\b", body, maxsplit=1)[0]
        built = set(re.findall(r"(?:return\s+|=\s*)([A-Z]\w*)\(", body))
        # ... of a class the same file defines as a module
        return any(re.search(rf"^class\s+{c}\s*\([^)]*Module", text, re.M) for c in built)

    def mentions(self, qualified: str, pattern: re.Pattern[str], near: str = "") -> bool:
        """Whether a linted file that ``resolve(qualified)`` may land in matches ``pattern``
        (a cheap, conservative test before any parsing)."""
        module = qualified.rpartition(".")[0]
        while module:
            path = self.find(module, near)
            if path is not None:
                key = (str(path), pattern.pattern)
                if key not in self._mentions:
                    try:
                        text: str | None = path.read_text(encoding="utf-8", errors="replace")
                    except OSError:
                        text = None
                    self._mentions[key] = text is not None and pattern.search(text) is not None
                if self._mentions[key]:
                    return True
            module = module.rpartition(".")[0]
        return False

    def resolve(self, qualified: str, flow: bool | str = False,
                near: str = "") -> tuple[Any, str] | None:
        """``("pkg.mod.func" | "pkg.mod.Class")`` -> (FileModel of pkg.mod, "func" | "Class")."""
        module, _, name = qualified.rpartition(".")
        package = near.rpartition(".")[0]
        sibling = bool(package)
        while module:
            if sibling and module not in self.by_module and \
                    f"{package}.{module}" in self.by_module:
                module = f"{package}.{module}"  # a script's sibling module (tried once: the
                sibling = False                 # walk up must not re-enter the package)
            model = self.file_model(module, flow) if self.find(module) is not None else None
            if model is not None:
                return model, name
            module, _, head = module.rpartition(".")
            name = f"{head}.{name}"
        return None
