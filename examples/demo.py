"""`make demo`: run every examples/demo_*.py in order (each is a standalone script)."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

from rich.console import Console
from rich.rule import Rule

here = Path(__file__).resolve().parent
console = Console()
failed = []
for script in sorted(here.glob("demo_*.py")):
    console.print(Rule(f"[bold]{script.name}"))
    try:
        runpy.run_path(str(script), run_name="__main__")
    except SystemExit as exc:
        if exc.code not in (0, None):
            failed.append(script.name)
    except Exception as exc:  # keep going, report at the end
        console.print_exception()
        failed.append(f"{script.name} ({type(exc).__name__})")
if failed:
    console.print(f"[red]demo steps failed: {', '.join(failed)}")
    sys.exit(1)
console.print("[green]demo finished")
