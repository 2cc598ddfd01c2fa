"""Render lint results: text, JSON, SARIF 2.1.0, GitHub annotations, statistics."""

from __future__ import annotations

import collections
from pathlib import Path
from typing import Any

from modeguard import __version__
from modeguard.findings import RULES, Severity
from modeguard.lint.engine import LintResult

FORMATS = ("text", "json", "sarif", "github")
_SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
_REPO = "https://github.com/modeguard/modeguard/blob/main/"


def render(result: LintResult, fmt: str = "text", statistics: bool = False) -> str:
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    text = {"text": _text, "json": _json, "sarif": _sarif, "github": _github}[fmt](result)
    if statistics and fmt in ("text", "github"):
        text += ("\n" if text else "") + _statistics(result)
    return text


def _text(result: LintResult) -> str:
    lines = []
    for f in result.findings:
        lines.append(f.format())
        if f.hint:
            lines.append(f"    hint: {f.hint}")
    lines += [d.format() for d in result.diagnostics]
    return "\n".join(lines)


def _statistics(result: LintResult) -> str:
    counts = collections.Counter(f.code for f in result.findings)
    rows = [f"{n:>5}  {code}  {RULES[code].name}" for code, n in counts.most_common()]
    total = f"{sum(counts.values())} finding(s) in {result.files} file(s)"
    if result.diagnostics:
        total += f"; {len(result.diagnostics)} file(s) could not be linted"
    return "\n".join([*rows, total])


def _json(result: LintResult) -> str:
    import json

    return json.dumps({"files": result.files,
                       "findings": [f.to_dict() for f in result.findings],
                       "diagnostics": [d.to_dict() for d in result.diagnostics]}, indent=2)


def _sarif(result: LintResult) -> str:
    rules = [{
        "id": r.code, "name": r.name,
        "shortDescription": {"text": r.summary},
        "helpUri": _REPO + r.doc,
        "defaultConfiguration": {"level": _SARIF_LEVEL[r.severity], "enabled": r.default},
    } for r in RULES.values() if "lint" in r.detectors]
    index = {r["id"]: i for i, r in enumerate(rules)}

    def location(path: str, line: int, col: int = 0, note: str = "") -> dict[str, Any]:
        loc: dict[str, Any] = {"physicalLocation": {
            "artifactLocation": {"uri": Path(path).as_posix()},
            "region": {"startLine": max(line, 1), "startColumn": col + 1}}}
        if note:
            loc["message"] = {"text": note}
        return loc

    results = []
    for f in result.findings:
        assert f.severity is not None
        item: dict[str, Any] = {
            "ruleId": f.code, "ruleIndex": index[f.code], "level": _SARIF_LEVEL[f.severity],
            "message": {"text": f.message + (f" Fix: {f.hint}" if f.hint else "")},
            "locations": [location(f.path or "", f.line or 1, f.col)],
        }
        if f.related:
            item["relatedLocations"] = [dict(location(r.path, r.line, r.col, r.note), id=i)
                                        for i, r in enumerate(f.related)]
        results.append(item)
    notifications = [{"level": "error", "message": {"text": d.message},
                      "locations": [location(d.path, d.line)]} for d in result.diagnostics]
    run: dict[str, Any] = {
        "tool": {"driver": {"name": "modeguard", "version": __version__,
                            "informationUri": "https://github.com/modeguard/modeguard",
                            "rules": rules}},
        "results": results,
    }
    if notifications:
        run["invocations"] = [{"executionSuccessful": True,
                               "toolExecutionNotifications": notifications}]
    import json

    return json.dumps({"$schema": "https://json.schemastore.org/sarif-2.1.0.json",
                       "version": "2.1.0", "runs": [run]}, indent=2)


def _github(result: LintResult) -> str:
    def esc(s: str) -> str:
        return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")

    level = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}
    lines = []
    for f in result.findings:
        assert f.severity is not None
        lines.append(f"::{level[f.severity]} file={f.path},line={f.line},col={f.col + 1},"
                     f"title={f.code} {RULES[f.code].name}::{esc(f.message)}")
    for d in result.diagnostics:
        lines.append(f"::error file={d.path},line={max(d.line, 1)},title=E999::{esc(d.message)}")
    return "\n".join(lines)
