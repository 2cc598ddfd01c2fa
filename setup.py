"""Build hook: the rule pages (docs/rules/MG*.md) travel inside the package.

``modeguard rule MG101`` prints a rule's page. In a checkout it reads docs/rules/ directly; an
installed wheel has no docs/ folder, so building copies the pages to modeguard/docs/rules/,
where :func:`modeguard.findings.doc_path` looks next. Everything else is in pyproject.toml.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

PAGES = Path(__file__).resolve().parent / "docs" / "rules"


class BuildWithRulePages(build_py):
    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / "modeguard" / "docs" / "rules"
        target.mkdir(parents=True, exist_ok=True)
        for page in sorted(PAGES.glob("MG*.md")):
            shutil.copyfile(page, target / page.name)


setup(cmdclass={"build_py": BuildWithRulePages})
