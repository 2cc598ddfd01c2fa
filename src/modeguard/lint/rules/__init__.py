"""The lint rules, by family. ``RULES`` maps a rule module to ``(triggers, check)``.

``triggers`` is the text at least one of which must occur in a file's source for the module's
rules to be able to fire (a cheap pre-check; a file no family is triggered by is not even
parsed into a syntax tree): each trigger is a substring, or a tuple of substrings that must all
occur. ``check(src)`` yields findings. The engine applies noqa, select/ignore and
per-file-ignores afterwards.
"""

from __future__ import annotations

from typing import Callable, Iterable, Union

from modeguard.findings import Finding
from modeguard.lint.rules import batchnorm_args, dropout, modeflow, override, tensorflow
from modeguard.lint.source import SourceFile

Check = Callable[[SourceFile], Iterable[Finding]]
Trigger = Union[str, tuple[str, ...]]

RULES: dict[str, tuple[tuple[Trigger, ...], Check]] = {
    "override": (("def train", "self.train", "self.eval", "self.freeze"), override.check),
    # MG201 a functional dropout call; MG202 an attention call (every name it knows has
    # "_attention" or "flash_attn" in it); MG203 forward() branching on a training flag (every
    # flag mentions_training() knows has "train" in its name)
    "dropout": (("dropout", "_attention", "flash_attn", ("def forward", "train")), dropout.check),
    "batchnorm_args": (("BatchNorm", "InstanceNorm"), batchnorm_args.check),
    # requires_grad matters only to MG302, which needs a BatchNorm test next to it
    "modeflow": ((".eval(", ".train(", "no_grad", "inference_mode", "volatile",
                  ("requires_grad", "BatchNorm"), "from_pretrained(", "_start(", ".step(",
                  ".backward(",
                  # a training hook that calls an evaluation living in another file
                  ("def after_", "evaluat"), ("def on_", "evaluat"), ("def after_", "validate("),
                  ("def on_", "validate("),
                  # a call to a BatchNorm freezing helper of another file (freeze_bn(...))
                  ("freeze_", "_bn"), ("freeze_", "Norm"),
                  # weights loaded, then handed to a prediction helper of another file
                  (".load_state_dict(", "predict"), (".load_state_dict(", "infer"),
                  (".load_state_dict(", "evaluat")),
                 modeflow.check),
    "tensorflow": (("tensorflow", "keras"), tensorflow.check),
}


def triggered(triggers: tuple[Trigger, ...], source: str) -> bool:
    """Whether a rule family's pre-check passes on ``source`` (no triggers: always)."""
    if not triggers:
        return True
    for t in triggers:
        if t in source if isinstance(t, str) else all(part in source for part in t):
            return True
    return False
