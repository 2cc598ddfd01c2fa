"""Line-level precision and recall of `modeguard lint` on a held-out corpus of programs.

A corpus is a folder of training, evaluation and model-definition programs in which every line
with a real mode bug ends with ``# expect: MGxxx`` (several codes: ``# expect: MG101, MG401``)
and correct programs carry no marker. Each top-level ``.py`` file is linted on its own, each
sub-folder as one multi-file project, with the default rule set and one job, exactly as a user
would run ``modeguard lint FILE``. A finding counts as true only at a marked line with the same
code; every other finding is false; every unmatched marker is a miss.

The held-out corpora of issue 5 were written by people who had not seen the linter's code,
rules or fixtures (only the rule catalog of DESIGN.md and the survey of real bugs), and were
first linted with the version named in benchmarks/RESULTS.md.

Run:  .venv/bin/python benchmarks/lint_heldout.py CORPUS [CORPUS ...] [--details]
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from pathlib import Path

from modeguard.lint.engine import Config, lint_paths

MARK = re.compile(r"#\s*expect:\s*([A-Z0-9, ]+)")


def markers(path: Path) -> set[tuple[str, int, str]]:
    out = set()
    text = path.read_text(encoding="utf-8", errors="replace")
    for i, line in enumerate(text.splitlines(), start=1):
        m = MARK.search(line)
        if m:
            out.update((str(path), i, c.strip()) for c in m.group(1).split(",") if c.strip())
    return out


def units(corpus: Path) -> list[Path]:
    """What is linted as one run: each top-level file, each sub-folder (a project)."""
    return sorted(p for p in corpus.iterdir()
                  if p.suffix == ".py" or p.is_dir() and not p.name.startswith(("_", ".")))


def score(corpus: Path) -> dict[str, object]:
    want: set[tuple[str, int, str]] = set()
    got: set[tuple[str, int, str]] = set()
    crashes = 0
    for unit in units(corpus):
        for path in [unit] if unit.is_file() else sorted(unit.rglob("*.py")):
            want |= markers(path)
        result = lint_paths([unit], jobs=1, config=Config())
        crashes += sum(1 for d in result.diagnostics if "internal error" in d.message)
        got |= {(str(Path(f.path).resolve()) if not Path(f.path).is_absolute() else f.path,
                 f.line or 0, f.code) for f in result.findings}
    want = {(str(Path(p).resolve()), ln, c) for p, ln, c in want}
    got = {(str(Path(p).resolve()), ln, c) for p, ln, c in got}
    return {"want": want, "got": got, "crashes": crashes,
            "files": sum(1 for _ in corpus.rglob("*.py"))}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("corpora", nargs="+", type=Path)
    parser.add_argument("--details", action="store_true", help="list every miss and false finding")
    args = parser.parse_args()
    total_tp = total_fp = total_fn = 0
    per_code: Counter[tuple[str, str]] = Counter()
    print("| corpus | files | markers | findings | true | false | missed | precision | recall |")
    print("|---|---|---|---|---|---|---|---|---|")
    details = []
    for corpus in args.corpora:
        r = score(corpus)
        want, got = r["want"], r["got"]
        assert isinstance(want, set) and isinstance(got, set)
        tp, fp, fn = got & want, got - want, want - got
        total_tp, total_fp, total_fn = total_tp + len(tp), total_fp + len(fp), total_fn + len(fn)
        for _, _, c in tp:
            per_code[(c, "true")] += 1
        for _, _, c in fp:
            per_code[(c, "false")] += 1
        for _, _, c in fn:
            per_code[(c, "missed")] += 1
        p = len(tp) / len(got) if got else 1.0
        rc = len(tp) / len(want) if want else 1.0
        print(f"| {corpus} | {r['files']} | {len(want)} | {len(got)} | {len(tp)} | {len(fp)} | "
              f"{len(fn)} | {p:.2f} | {rc:.2f} |", flush=True)
        root = str(corpus.resolve())
        details += [f"false  {p[len(root) + 1:] if p.startswith(root) else p}:{ln} {c}"
                    for p, ln, c in sorted(fp)]
        details += [f"missed {p[len(root) + 1:] if p.startswith(root) else p}:{ln} {c}"
                    for p, ln, c in sorted(fn)]
        if r["crashes"]:
            print(f"  internal errors: {r['crashes']}", file=sys.stderr)
    found = total_tp + total_fp
    print(f"\nall: {total_tp} true, {total_fp} false, {total_fn} missed; precision "
          f"{total_tp / found if found else 1.0:.2f}, recall "
          f"{total_tp / (total_tp + total_fn) if total_tp + total_fn else 1.0:.2f}")
    codes = sorted({c for c, _ in per_code})
    print("per code: " + ", ".join(
        f"{c} {per_code[(c, 'true')]}/{per_code[(c, 'false')]}/{per_code[(c, 'missed')]}"
        for c in codes) + "  (true/false/missed)")
    if args.details:
        print("\n" + "\n".join(details))


if __name__ == "__main__":
    main()
