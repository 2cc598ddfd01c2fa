"""The blind corpora (tests/lint_blind): programs written by people who had not seen the linter,
with every real bug marked. They shaped fixes after their first contact, so they are regression
data now: line-level precision and recall over them must not fall below what they were when
they were added (1.00 / 0.99 on 632 files, 384 markers, rounds 1-5), with margins for honest rule changes."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
BLIND = Path(__file__).parent / "lint_blind"


def _scorer():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("lint_heldout",
                                                  ROOT / "benchmarks" / "lint_heldout.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_blind_corpora_keep_their_precision_and_recall() -> None:
    score = _scorer().score
    true = false = missed = crashes = 0
    for corpus in sorted(p for p in BLIND.glob("round*/*") if p.is_dir()):
        r = score(corpus)
        want, got = r["want"], r["got"]
        true += len(got & want)
        false += len(got - want)
        missed += len(want - got)
        crashes += r["crashes"]
    precision, recall = true / (true + false), true / (true + missed)
    print(f"blind corpora: {true} true, {false} false, {missed} missed; "
          f"precision {precision:.2f}, recall {recall:.2f}")
    assert crashes == 0
    assert true + missed == 384  # every marker was read
    assert precision >= 0.95, (true, false, missed)
    assert recall >= 0.95, (true, false, missed)
