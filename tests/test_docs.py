"""Documentation examples run: every ```python block in README*.md and docs/**/*.md, and the
doctests of the package's modules.

Convention: a fenced block tagged ``python`` must run as it is (blocks of one page run in order
in one namespace, in a temporary working directory); a block tagged ``py`` is shown but not run
(e.g. code that needs ``torchrun`` or a user's files).
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import modeguard

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted([*ROOT.glob("README*.md"), *(ROOT / "docs").rglob("*.md")])
BLOCK = re.compile(r"^```python[ \t]*\n(.*?)^```", re.S | re.M)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_python_blocks_in_page_run(page: Path, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    blocks = BLOCK.findall(page.read_text(encoding="utf-8"))
    if not blocks:
        pytest.skip("no python blocks")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__docs__"}
    for i, code in enumerate(blocks):
        try:
            exec(compile(code, f"{page.name}[block {i}]", "exec"), namespace)
        except Exception as exc:  # pragma: no cover - the message is the point
            raise AssertionError(f"{page.relative_to(ROOT)} block {i} failed: {exc!r}\n{code}")


MODULES = sorted(name for _, name, _ in pkgutil.walk_packages(modeguard.__path__, "modeguard.")
                 if not name.endswith("__main__"))


@pytest.mark.parametrize("name", MODULES)
def test_module_doctests(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0


@pytest.mark.parametrize("page", ["docs/semantics.md", "docs/zh/semantics.md"])
def test_every_semantics_claim_cites_an_existing_test(page: str) -> None:
    text = (ROOT / page).read_text(encoding="utf-8")
    cited = set(re.findall(r"`(test_[a-z0-9_]+)`", text))
    tests = (ROOT / "tests" / "test_semantics.py").read_text(encoding="utf-8")
    defined = set(re.findall(r"^def (test_[a-z0-9_]+)", tests, re.M))
    assert cited, "the page cites no test"
    assert cited <= defined, f"cited but not defined: {sorted(cited - defined)}"
    assert defined <= cited, f"tests not cited by the page: {sorted(defined - cited)}"
