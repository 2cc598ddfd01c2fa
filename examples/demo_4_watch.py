"""Run a buggy training script unmodified under `modeguard run` and show what it finds."""

import subprocess
import sys
from pathlib import Path

script = Path(__file__).with_name("buggy_train.py")
result = subprocess.run([sys.executable, "-m", "modeguard", "run", str(script)],
                        capture_output=True, text=True)
print(result.stdout, end="")   # the script's own output, untouched
print(result.stderr, end="")   # modeguard's summary (stderr)
print(f"script exit status: {result.returncode}")
