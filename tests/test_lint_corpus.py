"""The fixture corpus: every `# expect: MGxxx` marker is found on its line, nothing else is.

Files are linted one by one with the default rule set plus the rule of their folder (so the
opinionated MG103, off by default, is checked in its own folder); good_*.py files carry no
marker and must produce no finding at all. Precision and recall over the whole corpus are
printed.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from modeguard.lint.engine import lint_paths

CORPUS = Path(__file__).parent / "lint_corpus"
FILES = sorted(p for p in CORPUS.rglob("*.py") if "projects" not in p.parts)
PROJECTS = sorted(p for p in (CORPUS / "projects").iterdir() if p.is_dir())
MARK = re.compile(r"#\s*expect:\s*([A-Z0-9, ]+)")


def expected(path: Path) -> set[tuple[int, str]]:
    out = set()
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        m = MARK.search(line)
        if m:
            out.update((i, c.strip()) for c in m.group(1).split(",") if c.strip())
    return out


def found(path: Path) -> set[tuple[int, str]]:
    rule = path.parent.name if path.parent.name.startswith("MG") else None
    result = lint_paths([path], extend_select=[rule] if rule else None, config=_no_config())
    assert not result.diagnostics, result.diagnostics
    return {(f.line or 0, f.code) for f in result.findings}


def _no_config():  # type: ignore[no-untyped-def]
    from modeguard.lint.engine import Config
    return Config()


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(CORPUS)))
def test_corpus_file(path: Path) -> None:
    want, got = expected(path), found(path)
    assert got == want, f"missing: {sorted(want - got)}; unexpected: {sorted(got - want)}"


@pytest.mark.parametrize("folder", PROJECTS, ids=lambda p: p.name)
@pytest.mark.parametrize("jobs", [1, 2])
def test_multi_file_project(folder: Path, jobs: int, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A project linted as a whole: calls into other files are followed."""
    monkeypatch.chdir(folder)
    want = {(str(p.relative_to(folder)), line, code)
            for p in sorted(folder.rglob("*.py")) for line, code in expected(p)}
    result = lint_paths(["."], config=_no_config(), jobs=jobs)
    got = {(f.path, f.line, f.code) for f in result.findings}
    assert got == want, f"missing: {sorted(want - got)}; unexpected: {sorted(got - want)}"


def test_corpus_shape_and_scores(capsys) -> None:  # type: ignore[no-untyped-def]
    by_rule: dict[str, dict[str, int]] = {}
    tp = fp = fn = 0
    for path in FILES:
        rule = path.parent.name
        kind = "bad" if path.name.startswith("bad_") else "good"
        by_rule.setdefault(rule, {"bad": 0, "good": 0})[kind] += 1
        want, got = expected(path), found(path)
        tp += len(want & got)
        fp += len(got - want)
        fn += len(want - got)
    for rule, counts in by_rule.items():
        assert counts["bad"] >= 3 and counts["good"] >= 3, (rule, counts)
    precision = tp / max(tp + fp, 1)
    recall = tp / max(tp + fn, 1)
    with capsys.disabled():
        print(f"\nlint corpus: {len(FILES)} files, precision {precision:.2f}, recall {recall:.2f}")
    assert tp > 0
