"""Find files, parse them once, run the rules, apply noqa and the configuration.

Never imports or executes the code it reads. A file that cannot be read or parsed
gets one :class:`Diagnostic` and linting goes on with the next one.
"""

from __future__ import annotations

import _symtable
import ast
import fnmatch
import gc
import io
import os
import re
import sys
import tokenize
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from modeguard.findings import Finding, resolve_codes
from modeguard.lint.source import SourceFile

__all__ = ["Config", "Diagnostic", "LintResult", "lint_paths", "lint_source", "discover"]

SKIP_DIRS = frozenset({".git", ".hg", ".svn", ".venv", "venv", ".env", "env", "__pycache__",
                       "build", "dist", "node_modules", ".tox", ".nox", ".eggs", ".mypy_cache",
                       ".pytest_cache", ".ruff_cache", "site-packages"})
MAX_BYTES = 5_000_000  # larger files are reported, not parsed
NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]*(?:[\s,]+[A-Z]+[0-9]*)*))?", re.I)


@dataclass(frozen=True)
class Diagnostic:
    """A file that could not be linted (not a finding): unreadable, not Python, too large."""

    path: str
    line: int
    message: str

    def format(self) -> str:
        return f"{self.path}:{self.line}:0: E999 {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "line": self.line, "message": self.message}


@dataclass
class Config:
    """Rule selection and file selection, from the command line and ``[tool.modeguard]``."""

    select: list[str] | None = None
    ignore: list[str] = field(default_factory=list)
    extend_select: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    per_file_ignores: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def from_pyproject(cls, start: Path) -> "Config":
        """``[tool.modeguard]`` of the nearest ``pyproject.toml`` at or above ``start``."""
        path = find_pyproject(start)
        if path is None:
            return cls()
        if sys.version_info >= (3, 11):
            import tomllib
        else:  # pragma: no cover
            import tomli as tomllib
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ValueError(f"cannot read {path}: {exc}") from exc
        table = data.get("tool", {}).get("modeguard", {})
        unknown = set(table) - {"select", "ignore", "extend-select", "extend_select", "exclude",
                                "per-file-ignores", "per_file_ignores"}
        if unknown:
            raise ValueError(f"{path}: unknown [tool.modeguard] keys: {', '.join(sorted(unknown))}"
                             " (known: select, ignore, extend-select, exclude, per-file-ignores)")
        base = path.parent
        return cls(
            select=table.get("select"),
            ignore=list(table.get("ignore", [])),
            extend_select=list(table.get("extend-select", table.get("extend_select", []))),
            exclude=[str(base / e) if not os.path.isabs(e) else e
                     for e in table.get("exclude", [])],
            per_file_ignores={str(base / k): list(v) for k, v in
                              table.get("per-file-ignores", table.get("per_file_ignores",
                                                                      {})).items()},
        )

    def merged(self, select: Sequence[str] | None = None, ignore: Sequence[str] | None = None,
               extend_select: Sequence[str] | None = None,
               exclude: Sequence[str] | None = None) -> "Config":
        """Command-line values on top of the file's (select replaces, the rest add up)."""
        return Config(select=list(select) if select else self.select,
                      ignore=[*self.ignore, *(ignore or [])],
                      extend_select=[*self.extend_select, *(extend_select or [])],
                      exclude=[*self.exclude, *(exclude or [])],
                      per_file_ignores=dict(self.per_file_ignores))

    def codes(self) -> frozenset[str]:
        return resolve_codes(self.select, self.ignore, self.extend_select, detector="lint")


def find_pyproject(start: Path) -> Path | None:
    here = start.resolve()
    if here.is_file():
        here = here.parent
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


@dataclass
class LintResult:
    findings: list[Finding]
    diagnostics: list[Diagnostic]
    files: int

    @property
    def exit_code(self) -> int:
        """0 clean, 1 findings (or files that could not be linted)."""
        return 1 if self.findings or self.diagnostics else 0


# ------------------------------------------------------------------ files


def _excluded(path: Path, patterns: Sequence[str]) -> bool:
    return _matches(str(path.resolve()), path.name, patterns)


def _matches(resolved: str, name: str, patterns: Sequence[str]) -> bool:
    """Whether an exclude pattern matches a path (resolved), a folder above it, or its name."""
    return any(fnmatch.fnmatch(resolved, p) or fnmatch.fnmatch(resolved, p.rstrip("/") + "/*")
               or fnmatch.fnmatch(name, p) for p in patterns)


def discover(paths: Iterable[str | Path], exclude: Sequence[str] = ()) -> list[Path]:
    """``.py`` files under ``paths``. What is named explicitly is linted: a file always, a
    folder with every exclusion except those that match the folder itself (``modeguard lint
    examples/buggy`` lints that folder even when the configuration excludes it from ``.``)."""
    out: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_file():
            out.append(p)
            continue
        if not p.is_dir():
            raise FileNotFoundError(f"no such file or directory: {raw}")
        active = [pattern for pattern in exclude if not _excluded(p, [pattern])]
        for root, dirs, files in os.walk(p):
            # each folder resolved once (not each file): patterns match resolved paths
            real = os.path.realpath(root) if active else ""
            dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.endswith(".egg-info")
                             and not (active and _matches(os.path.join(real, d), d, active)))
            for name in sorted(files):
                if name.endswith(".py") and not (
                        active and _matches(os.path.join(real, name), name, active)):
                    out.append(Path(root) / name)
    return out


def _display(path: Path) -> str:
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if rel.startswith("..") else rel


def _module_name(display: str) -> str:
    parts = Path(display).with_suffix("").parts
    parts = tuple(p for p in parts if p not in (".", ".."))
    if parts and parts[0] in ("src", "lib"):
        parts = parts[1:]
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def read_source(data: bytes) -> str:
    """Decode like Python does (PEP 263 coding cookie, BOM, default UTF-8)."""
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    return data.decode(encoding)


def parse_file(path: Path, needed: bool = True) -> SourceFile | Diagnostic | None:
    """Read and parse one file. ``needed=False``: parse only if some rule's trigger occurs in
    the text; otherwise only check the syntax (``None`` when it is valid)."""
    display = _display(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        return Diagnostic(display, 0, f"cannot read file: {exc.strerror or exc}")
    if len(data) > MAX_BYTES:
        return Diagnostic(display, 0, f"file too large to lint ({len(data)} bytes > {MAX_BYTES})")
    return parse_source(data, display, needed)


def parse_source(data: bytes | str, display: str,
                 needed: bool = True) -> SourceFile | Diagnostic | None:
    try:
        source = data if isinstance(data, str) else read_source(data)
    except (SyntaxError, UnicodeDecodeError, LookupError) as exc:
        return Diagnostic(display, 0, f"cannot decode file: {exc}")
    try:
        if not needed and not _triggered(source):
            # no rule can fire here: CPython's front end without building the Python syntax
            # tree (about a third cheaper than ast.parse, and nothing to free afterwards)
            _symtable.symtable(source, display, "exec")
            return None
        tree = ast.parse(source, filename=display)
    except SyntaxError as exc:
        return Diagnostic(display, exc.lineno or 0, f"syntax error: {exc.msg}")
    except ValueError as exc:  # null bytes (before Python 3.11.4)
        return Diagnostic(display, 0, f"not valid Python source: {exc}")
    except (RecursionError, MemoryError):
        return Diagnostic(display, 0, "nesting too deep to parse")
    return SourceFile(display, source, tree, _module_name(display))


def _triggered(source: str) -> bool:
    """Whether any rule's trigger occurs in the text (see :data:`rules.RULES`)."""
    from modeguard.lint.rules import RULES, triggered

    return any(triggered(triggers, source) for triggers, _ in RULES.values())


# ------------------------------------------------------------------ rules


def _noqa(src: SourceFile, finding: Finding) -> bool:
    line = src.line_text(finding.line or 0)
    if "#" not in line:
        return False
    m = NOQA.search(line)
    if m is None:
        return False
    codes = m.group("codes")
    if not codes:
        return True
    return any(finding.code.startswith(c.upper()) for c in re.split(r"[\s,]+", codes) if c)


def check_file(src: SourceFile) -> tuple[list[Finding], list[Diagnostic]]:
    """Every rule on one parsed file; rule crashes become diagnostics, never exceptions."""
    from modeguard.lint.rules import RULES, triggered

    findings: list[Finding] = []
    diagnostics: list[Diagnostic] = []
    for name, (triggers, check) in RULES.items():
        if not triggered(triggers, src.source):
            continue  # cheap pre-check: the rule cannot fire in this file
        try:
            findings.extend(check(src))
        except RecursionError:
            diagnostics.append(Diagnostic(src.path, 0, f"nesting too deep for rule {name}"))
        except Exception as exc:  # an internal error must not stop the run
            diagnostics.append(Diagnostic(src.path, 0, f"internal error in rule {name}: "
                                                      f"{type(exc).__name__}: {exc}"))
    return [f for f in findings if not _noqa(src, f)], diagnostics


def _init_worker(files: list[str]) -> None:
    from modeguard.lint import project
    project.current = project.Project(files)


_linted = 0  # files linted by this process
_collected_at = 0.0  # peak memory (MiB) at the last collection


def _peak_mib() -> float:
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return 0.0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB (bytes on macOS)
    return peak / (1 << 20 if sys.platform == "darwin" else 1 << 10)


def _lint_one(path: str) -> tuple[list[Finding], list[Diagnostic]]:
    global _linted, _collected_at
    _linted += 1
    if _linted % 100 == 0 and not gc.isenabled():
        # the CLI switches automatic collection off (syntax trees and analyses have almost no
        # reference cycles: a collection over the whole torch package finds a few hundred
        # objects but costs half a second). Collect only if the peak memory grew by 512 MiB
        # since the last time, and set aside what survives so that it is not rescanned.
        peak = _peak_mib()
        if peak - _collected_at > 512:
            gc.collect()
            gc.freeze()
            _collected_at = peak
    parsed = parse_file(Path(path), needed=False)
    if parsed is None:
        return [], []
    if isinstance(parsed, Diagnostic):
        return [], [parsed]
    return check_file(parsed)


def _filter(findings: list[Finding], config: Config) -> list[Finding]:
    codes = config.codes()
    per_file = [(pattern, resolve_codes(select=v, detector="lint") if v else frozenset())
                for pattern, v in config.per_file_ignores.items()]
    out = []
    for f in findings:
        if f.code not in codes:
            continue
        if f.path and any(fnmatch.fnmatch(str(Path(f.path).resolve()), pattern)
                          and f.code in ignored for pattern, ignored in per_file):
            continue
        out.append(f)
    return out


def lint_paths(paths: Iterable[str | Path] = (".",), *, select: Sequence[str] | None = None,
               ignore: Sequence[str] | None = None, extend_select: Sequence[str] | None = None,
               exclude: Sequence[str] | None = None, jobs: int | None = 1,
               config: Config | None = None) -> LintResult:
    """Lint files and folders. ``jobs=None`` or ``0`` uses every core.

    ``config`` defaults to ``[tool.modeguard]`` of the nearest ``pyproject.toml``
    (looked up from the first path); the keyword arguments are applied on top.
    """
    paths = list(paths) or ["."]
    base = config if config is not None else Config.from_pyproject(Path(paths[0]))
    cfg = base.merged(select, ignore, extend_select, exclude)
    cfg.codes()  # validate selectors before doing any work
    files = discover(paths, cfg.exclude)
    n_jobs = jobs if jobs and jobs > 0 else (os.cpu_count() or 1)
    findings: list[Finding] = []
    diagnostics: list[Diagnostic] = []
    names = [str(f) for f in files]
    if n_jobs > 1 and len(files) > 8:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=n_jobs, initializer=_init_worker,
                                 initargs=(names,)) as pool:
            chunk = max(1, len(files) // (n_jobs * 8))
            for fs, ds in pool.map(_lint_one, names, chunksize=chunk):
                findings.extend(fs)
                diagnostics.extend(ds)
    else:
        from modeguard.lint import project
        previous = project.current
        project.current = project.Project(names)
        try:
            for name in names:
                fs, ds = _lint_one(name)
                findings.extend(fs)
                diagnostics.extend(ds)
        finally:
            project.current = previous
    # a bug in a shared helper is found from every file that calls it: report it once
    unique: dict[tuple[str, str | None, int | None], Finding] = {}
    for f in findings:
        unique.setdefault(f.key, f)
    findings = _filter(list(unique.values()), cfg)
    findings.sort(key=lambda f: (f.path or "", f.line or 0, f.col, f.code))
    return LintResult(findings, diagnostics, len(files))


def lint_source(source: str, path: str = "<string>", *, select: Sequence[str] | None = ("ALL",),
                ignore: Sequence[str] | None = None) -> list[Finding]:
    """Lint a string (all rules by default); handy in tests and notebooks."""
    parsed = parse_source(source, path)
    if isinstance(parsed, Diagnostic):
        raise SyntaxError(parsed.message)
    findings, diagnostics = check_file(parsed)
    if diagnostics:
        raise RuntimeError("; ".join(d.message for d in diagnostics))
    cfg = Config(select=list(select) if select else None, ignore=list(ignore or []))
    return sorted(_filter(findings, cfg), key=lambda f: (f.line or 0, f.col, f.code))
