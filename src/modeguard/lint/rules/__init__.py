"""The lint rules, by family. ``RULES`` maps a rule module to ``(triggers, check)``.

``triggers`` are substrings of which at least one must occur in a file's source for the
module's rules to be able to fire (a cheap pre-check); ``check(src)`` yields findings.
The engine applies noqa, select/ignore and per-file-ignores afterwards.
"""

from __future__ import annotations

from typing import Callable, Iterable

from modeguard.findings import Finding
from modeguard.lint.rules import batchnorm_args, dropout, modeflow, override, tensorflow
from modeguard.lint.source import SourceFile

Check = Callable[[SourceFile], Iterable[Finding]]

RULES: dict[str, tuple[tuple[str, ...], Check]] = {
    "override": (("def train", "self.train", "self.eval", "self.freeze"), override.check),
    "dropout": (("dropout", "attention", "attn", ".training"), dropout.check),
    "batchnorm_args": (("BatchNorm", "InstanceNorm"), batchnorm_args.check),
    "modeflow": ((".eval(", ".train(", "no_grad", "inference_mode", "requires_grad",
                  "from_pretrained(", "_start(", ".step(", ".backward("),
                 modeflow.check),
    "tensorflow": (("tensorflow", "keras"), tensorflow.check),
}
