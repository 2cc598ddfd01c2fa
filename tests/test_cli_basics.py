"""The `modeguard` command itself: entry points, version, the rule catalog."""

from __future__ import annotations

import json
import subprocess
import sys

from click.testing import CliRunner

from modeguard import __version__
from modeguard.cli import main
from modeguard.findings import RULES


def test_rules_json_lists_the_whole_catalog() -> None:
    result = CliRunner().invoke(main, ["rules", "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [r["code"] for r in rows] == list(RULES)
    assert {r["code"] for r in rows if not r["default"]} == {"MG103"}
    assert all(r["doc"] == f"docs/rules/{r['code']}.md" for r in rows)


def test_rules_table_mentions_every_code() -> None:
    result = CliRunner().invoke(main, ["rules"], terminal_width=200)
    assert result.exit_code == 0
    for code in RULES:
        assert code in result.output


def test_python_dash_m_and_version() -> None:
    out = subprocess.run([sys.executable, "-m", "modeguard", "--version"], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0
    assert __version__ in out.stdout


def test_unknown_command_is_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["frobnicate"])
    assert result.exit_code == 2
    assert "No such command" in result.output
