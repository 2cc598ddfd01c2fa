"""The ``modeguard`` command: one click group, one sub-command per job.

Each sub-command is a thin layer: it parses options and calls the library
function that does the work, then renders with rich.
"""

from __future__ import annotations

import sys

import click
from rich.console import Console
from rich.table import Table

from modeguard import __version__
from modeguard.findings import RULES

console = Console()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="modeguard")
def main() -> None:
    """Make PyTorch's model.train() / model.eval() right.

    \b
    modeguard inspect mypkg.models:build     what each mode-sensitive module does now
    modeguard lint src/                      find mode bugs in training code
    modeguard run train.py --epochs 1        watch a training script for mode bugs
    modeguard rules                          the rule catalog
    """


@main.command("rules")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
def rules_command(fmt: str) -> None:
    """List the rule catalog: code, name, severity, default, detectors."""
    if fmt == "json":
        import json
        click.echo(json.dumps([r.to_dict() for r in RULES.values()], indent=2,
                              ensure_ascii=False))
        return
    table = Table(title="modeguard rules", show_lines=False)
    for col in ("code", "name", "severity", "default", "found by", "summary"):
        table.add_column(col, overflow="fold")
    for r in RULES.values():
        table.add_row(r.code, r.name, r.severity.value, "on" if r.default else "off",
                      ", ".join(sorted(r.detectors)), r.summary)
    console.print(table)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
