"""Lint every .py file of the installed site-packages (torch included): no internal error."""

from __future__ import annotations

import sysconfig

import pytest

from modeguard.lint.engine import Config, lint_paths

pytestmark = pytest.mark.slow


def test_site_packages_zero_internal_errors() -> None:
    site = sysconfig.get_paths()["purelib"]
    result = lint_paths([site], select=["ALL"], jobs=0, config=Config())
    assert result.files > 1000
    internal = [d for d in result.diagnostics if not d.message.startswith(
        ("syntax error", "cannot decode", "not valid Python", "file too large",
         "nesting too deep to parse"))]
    assert internal == []
    # the diagnostics left are files that are not valid Python for this interpreter
    for d in result.diagnostics:
        with open(d.path, "rb") as fh:
            with pytest.raises((SyntaxError, ValueError, RecursionError)):
                compile(fh.read(), d.path, "exec")
