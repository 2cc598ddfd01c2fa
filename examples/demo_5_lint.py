"""`modeguard lint` on the bundled examples of classic bugs."""

import subprocess
import sys
from pathlib import Path

folder = Path(__file__).with_name("buggy")
result = subprocess.run([sys.executable, "-m", "modeguard", "lint", "--statistics", "--jobs", "1",
                         str(folder)], capture_output=True, text=True)
print(result.stdout, end="")
print(result.stderr, end="")
print(f"modeguard lint exit status: {result.returncode} (1 = findings)")
