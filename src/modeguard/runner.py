"""``modeguard run script.py [args...]``: run an unmodified script under :func:`~modeguard.watch`."""

from __future__ import annotations

import json
import runpy
import sys
import traceback
from pathlib import Path
from typing import Iterable, TextIO

from modeguard.watcher import ModeBugError, Watcher


class ScriptError(Exception):
    """The script cannot be run at all (missing, not Python); exit status 2."""


def _check_script(path: str) -> Path:
    script = Path(path)
    if not script.is_file():
        raise ScriptError(f"modeguard run: no such script: {path}")
    try:
        source = script.read_bytes()
        compile(source, str(script), "exec")
    except SyntaxError as exc:
        raise ScriptError(f"modeguard run: {path} is not valid Python: {exc.msg} "
                          f"(line {exc.lineno})") from exc
    except ValueError as exc:  # null bytes
        raise ScriptError(f"modeguard run: {path} is not valid Python: {exc}") from exc
    return script


def run_script(path: str, args: Iterable[str] = (), *, strict: bool = False,
               select: Iterable[str] | None = None, ignore: Iterable[str] | None = None,
               fmt: str = "text", output: TextIO | None = None) -> int:
    """Run ``path`` as ``__main__`` with ``sys.argv = [path, *args]`` under a watcher.

    Prints the summary when the script ends (normally, by ``sys.exit`` or by an
    exception, whose traceback is printed as Python would). Returns the exit status
    the script would have had: its ``sys.exit`` code, 1 for an uncaught exception,
    0 otherwise.
    """
    script = _check_script(path)
    watcher = Watcher(None, strict=strict, select=select, ignore=ignore)
    saved_argv = sys.argv[:]
    sys.argv = [str(script), *args]
    sys.path.insert(0, str(script.resolve().parent))
    status: int = 0
    watcher.start()
    try:
        runpy.run_path(str(script), run_name="__main__")
    except SystemExit as exc:
        code = exc.code
        if code is None:
            status = 0
        elif isinstance(code, int):
            status = code
        else:
            print(code, file=sys.stderr)
            status = 1
    except ModeBugError:
        traceback.print_exc()
        status = 1
    except BaseException:  # the script's own failure: its traceback, as python prints it
        exc_type, exc_value, tb = sys.exc_info()
        # drop the frames of modeguard and runpy so the traceback starts in the script
        while tb is not None and not tb.tb_frame.f_code.co_filename == str(script):
            if tb.tb_next is None:
                break
            tb = tb.tb_next
        traceback.print_exception(exc_type, exc_value, tb)
        status = 130 if exc_type is KeyboardInterrupt else 1
    finally:
        if watcher.running:
            watcher.stop()
        sys.argv = saved_argv
        if sys.path and sys.path[0] == str(script.resolve().parent):
            sys.path.pop(0)
    _emit(watcher, fmt, output)
    return status


def _emit(watcher: Watcher, fmt: str, output: TextIO | None) -> None:
    if fmt == "json":
        text = json.dumps(watcher.to_dict(), indent=2)
        print(text, file=output or sys.stdout)
        return
    if output is not None:
        print(watcher.summary(), file=output)
        return
    from rich.console import Console

    console = Console(stderr=True)
    if watcher.findings:
        console.print(watcher.table())
        for f in watcher.findings:
            if f.hint:
                console.print(f"[bold]{f.code}[/] hint: {f.hint}")
    else:
        console.print("modeguard watch: no mode bugs seen")
