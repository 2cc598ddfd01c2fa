"""The ``modeguard`` command: one click group, one sub-command per job.

Each sub-command is a thin layer: it parses options and calls the library
function that does the work, then renders with rich.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from modeguard import __version__
from modeguard.findings import RULES


def _console() -> Any:
    # rich is imported only by the commands that draw tables: `modeguard lint` starts faster
    from rich.console import Console
    return Console()


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
    from rich.table import Table

    table = Table(title="modeguard rules", show_lines=False)
    for col in ("code", "name", "severity", "default", "found by", "summary"):
        table.add_column(col, overflow="fold")
    for r in RULES.values():
        table.add_row(r.code, r.name, r.severity.value, "on" if r.default else "off",
                      ", ".join(sorted(r.detectors)), r.summary)
    _console().print(table)


def _load_factory(target: str) -> Any:
    """Import ``pkg.module:callable`` or ``path/to/file.py:callable``."""
    import importlib
    import importlib.util
    from pathlib import Path

    where, sep, attr = target.rpartition(":")
    if not sep or not where or not attr:
        raise click.BadParameter(f"{target!r}: expected MODULE:FACTORY, e.g. "
                                 "mypkg.models:build or models.py:build", param_hint="TARGET")
    if where.endswith(".py") or "/" in where or "\\" in where:
        path = Path(where)
        if not path.is_file():
            raise click.BadParameter(f"file {where!r} not found", param_hint="TARGET")
        spec = importlib.util.spec_from_file_location(path.stem, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.path.insert(0, str(path.resolve().parent))
        try:
            spec.loader.exec_module(module)
        finally:
            sys.path.pop(0)
    else:
        if "" not in sys.path and "." not in sys.path:
            sys.path.insert(0, "")
        try:
            module = importlib.import_module(where)
        except ModuleNotFoundError as exc:
            raise click.BadParameter(f"cannot import {where!r}: {exc}. Run from the directory "
                                     "that contains the package, or pass a file path",
                                     param_hint="TARGET") from exc
    factory = getattr(module, attr, None)
    if factory is None:
        raise click.BadParameter(f"{where!r} has no attribute {attr!r}", param_hint="TARGET")
    if not callable(factory):
        raise click.BadParameter(f"{target!r} is not callable", param_hint="TARGET")
    return factory


@main.command("inspect")
@click.argument("target")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@click.option("--eval", "as_eval", is_flag=True, help="Show the report after model.eval().")
def inspect_command(target: str, fmt: str, as_eval: bool) -> None:
    """Mode report of the model returned by TARGET (MODULE:FACTORY, called with no arguments).

    \b
    modeguard inspect mypkg.models:build
    modeguard inspect models.py:resnet_tiny --eval --format json
    """
    import json

    from torch import nn

    from modeguard.inspect import report

    factory = _load_factory(target)
    model = factory()
    if not isinstance(model, nn.Module):
        raise click.BadParameter(f"{target}() returned {type(model).__name__}, not a "
                                 "torch.nn.Module", param_hint="TARGET")
    if as_eval:
        model.eval()
    result = report(model)
    if fmt == "json":
        click.echo(json.dumps(result.to_dict(), indent=2))
    else:
        _console().print(result)


@main.command("run", context_settings={"ignore_unknown_options": True,
                                       "allow_interspersed_args": False})
@click.option("--strict", is_flag=True, help="Stop the script at the first finding.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True),
              help="Write the summary here instead of the terminal.")
@click.option("--select", multiple=True, help="Only these codes or prefixes (repeatable).")
@click.option("--ignore", multiple=True, help="Skip these codes or prefixes (repeatable).")
@click.argument("script")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def run_command(strict: bool, fmt: str, output: str | None, select: tuple[str, ...],
                ignore: tuple[str, ...], script: str, args: tuple[str, ...]) -> None:
    """Run SCRIPT unmodified under the watcher and summarize the mode bugs it hit.

    \b
    modeguard run train.py --epochs 1
    modeguard run --strict --format json -o findings.json train.py

    The script's own output, traceback and exit status are kept.
    """
    from modeguard.runner import ScriptError, run_script

    try:
        if output:
            with open(output, "w", encoding="utf-8") as fh:
                status = run_script(script, args, strict=strict, select=select or None,
                                    ignore=ignore or None, fmt=fmt, output=fh)
        else:
            status = run_script(script, args, strict=strict, select=select or None,
                                ignore=ignore or None, fmt=fmt)
    except ScriptError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)
    except ValueError as exc:  # bad --select/--ignore
        raise click.BadParameter(str(exc)) from exc
    sys.exit(status)


@main.command("lint")
@click.argument("paths", nargs=-1)
@click.option("--format", "fmt", type=click.Choice(["text", "json", "sarif", "github"]),
              default="text", show_default=True)
@click.option("--select", multiple=True, help="Only these codes/prefixes (replaces the default).")
@click.option("--ignore", multiple=True, help="Skip these codes/prefixes.")
@click.option("--extend-select", multiple=True, help="Add codes to the default set (e.g. MG103).")
@click.option("--exclude", multiple=True, help="Glob of paths to skip (adds to the config).")
@click.option("--statistics", is_flag=True, help="Count findings per code.")
@click.option("--jobs", "-j", type=int, default=0, show_default=True,
              help="Parallel processes; 0 = all cores.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True),
              help="Write the report to this file.")
def lint_command(paths: tuple[str, ...], fmt: str, select: tuple[str, ...],
                 ignore: tuple[str, ...], extend_select: tuple[str, ...],
                 exclude: tuple[str, ...], statistics: bool, jobs: int,
                 output: str | None) -> None:
    """Find mode bugs in Python files (default: the current directory).

    \b
    modeguard lint src/ train.py
    modeguard lint --format sarif -o modeguard.sarif .
    modeguard lint --select MG1 --extend-select MG103 --statistics

    Exit status: 0 clean, 1 findings, 2 usage error or internal failure.
    Configuration: [tool.modeguard] in pyproject.toml (select, ignore, extend-select,
    exclude, per-file-ignores). Silence one line with "# noqa: MG101".
    """
    import gc

    from modeguard.lint.engine import lint_paths
    from modeguard.lint.report import render

    # this process exists only to lint, and a file's syntax tree and analysis are free of
    # reference cycles (freed as soon as the next file starts): the cyclic collector would only
    # rescan the ~100,000 objects each parse creates. The engine collects whenever the peak
    # memory has grown by 512 MiB, so memory stays bounded even if a rule ever builds cycles.
    gc.freeze()
    gc.disable()
    try:
        result = lint_paths(paths or (".",), select=select or None, ignore=ignore,
                            extend_select=extend_select, exclude=exclude, jobs=jobs)
    except (ValueError, FileNotFoundError) as exc:
        raise click.UsageError(str(exc)) from exc
    text = render(result, fmt, statistics)
    if output:
        with open(output, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")
    elif text:
        click.echo(text)
    sys.exit(result.exit_code)


@main.command("rule")
@click.argument("code")
def rule_command(code: str) -> None:
    """Print the documentation page of one rule (code or name)."""
    from modeguard.findings import doc_path, get_rule

    try:
        rule = get_rule(code)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    page = doc_path(rule.code)
    if page is not None:
        click.echo(page.read_text(encoding="utf-8"))
    else:
        click.echo(f"# {rule.code} {rule.name}\n\n{rule.summary}\n\n{rule.summary_zh}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
