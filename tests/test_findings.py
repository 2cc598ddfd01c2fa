"""The rule catalog and the Finding record."""

from __future__ import annotations

import pytest

from modeguard.findings import RULES, Finding, Location, Severity, get_rule, resolve_codes


def test_catalog_matches_design_codes() -> None:
    assert list(RULES) == ["MG101", "MG102", "MG103", "MG104", "MG201", "MG202", "MG203",
                           "MG301", "MG302", "MG303", "MG304", "MG401", "MG501", "MG502"]
    assert RULES["MG304"].detectors == {"watch"}
    assert all(r.summary and r.summary_zh for r in RULES.values())


def test_lookup_by_code_or_name_and_error() -> None:
    assert get_rule("mg201") is RULES["MG201"]
    assert get_rule("bn-freeze-undone").code == "MG301"
    with pytest.raises(ValueError, match="unknown rule 'MG999'"):
        get_rule("MG999")


def test_resolve_codes_select_ignore_extend() -> None:
    lint_defaults = resolve_codes(detector="lint")
    assert "MG103" not in lint_defaults and "MG304" not in lint_defaults
    assert resolve_codes(select=["ALL"], detector="lint") >= {"MG103", "MG101"}
    assert resolve_codes(select=["MG3"], ignore=["MG303"], detector="lint") == {"MG301", "MG302"}
    assert resolve_codes(select=["MG3"], detector="watch") == {"MG301", "MG304"}
    assert "MG103" in resolve_codes(extend_select=["eval-leaks-to-caller"], detector="lint")
    with pytest.raises(ValueError, match="matches no rule"):
        resolve_codes(select=["XX1"])


def test_finding_defaults_format_and_dict() -> None:
    f = Finding("mg101", "validate() leaves eval on", path="train.py", line=40, col=4,
                related=(Location("train.py", 12, 8, "eval() here"),))
    assert f.code == "MG101" and f.severity is Severity.ERROR
    assert f.format() == "train.py:40:4: MG101 validate() leaves eval on"
    d = f.to_dict()
    assert d["name"] == "train-mode-not-restored" and d["related"][0]["line"] == 12
    assert Finding("MG101", "m", severity="warning").severity is Severity.WARNING
    assert Severity.ERROR.lowered() is Severity.WARNING
    with pytest.raises(ValueError):
        Finding("MG000", "no such rule")


def test_every_rule_has_a_page_with_the_sections() -> None:
    from modeguard.findings import doc_path
    for code, rule in RULES.items():
        page = doc_path(code)
        assert page is not None, code
        text = page.read_text(encoding="utf-8")
        assert text.startswith(f"# {code} {rule.name}")
        for section in ("## What it does", "## Why it matters", "## Example", "## Fix",
                        "## 中文摘要"):
            assert section in text, (code, section)
