"""The built wheel carries what the installed package needs: the rule pages behind
``modeguard rule MGxxx`` (copied in by setup.py's build hook)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from modeguard.findings import RULES

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_ships_every_rule_page(tmp_path: Path) -> None:
    # build from a copy, so that no build/ or egg-info lands in the checkout
    work = tmp_path / "checkout"
    work.mkdir()
    for name in ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md"):
        shutil.copy(ROOT / name, work / name)
    skip = shutil.ignore_patterns("__pycache__", "*.egg-info")
    shutil.copytree(ROOT / "src", work / "src", ignore=skip)
    shutil.copytree(ROOT / "docs", work / "docs")
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist),
                    str(work)], check=True, capture_output=True, text=True)
    wheel = next(dist.glob("modeguard-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    codes = [rule.code for rule in RULES.values()]
    missing = [c for c in codes if f"modeguard/docs/rules/{c}.md" not in names]
    assert not missing, f"rule pages missing from the wheel: {missing}"

    # installed elsewhere, doc_path() finds the page in the package, not in this checkout
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target",
                    str(site), str(wheel)], check=True, capture_output=True, text=True)
    env = {**os.environ, "PYTHONPATH": str(site)}
    out = subprocess.run([sys.executable, "-S", "-c",
                          "import modeguard.findings as f; p = f.doc_path('MG101'); "
                          "print(p); print(p.read_text(encoding='utf-8').splitlines()[0])"],
                         cwd=tmp_path, env=env, check=True, capture_output=True, text=True)
    path, title = out.stdout.splitlines()[:2]
    assert Path(path).is_relative_to(site)
    assert title == (ROOT / "docs" / "rules" / "MG101.md").read_text(encoding="utf-8").splitlines()[0]
