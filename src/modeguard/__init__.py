"""modeguard: make PyTorch's ``model.train()`` / ``model.eval()`` right.

Control modes (contexts that restore every submodule, sticky policies), inspect
them, lint training code for mode bugs, watch a running loop, recalibrate
BatchNorm statistics exactly.

>>> import torch, torch.nn as nn
>>> import modeguard as mg
>>> model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.Dropout(0.1))
>>> _ = mg.freeze_bn(model)          # survives model.train()
>>> with mg.inference(model):        # eval + no autograd, everything restored after
...     y = model(torch.randn(2, 3, 8, 8))

The names below are imported on first use, so that ``import modeguard`` (and the
linter, which never needs torch) stays light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_LAZY = {
    # modes
    "ModeState": "modes", "snapshot": "modes", "restore": "modes", "eval_mode": "modes",
    "train_mode": "modes", "inference": "modes",
    # policies
    "freeze_bn": "policy", "unfreeze_bn": "policy", "pin_mode": "policy", "unpin": "policy",
    "pinned": "policy",
    # frozen BatchNorm layers
    "FrozenBatchNorm1d": "norm", "FrozenBatchNorm2d": "norm", "FrozenBatchNorm3d": "norm",
    "convert_frozen_bn": "norm", "revert_frozen_bn": "norm",
    # inspection
    "report": "inspect", "ModeReport": "inspect",
    # BatchNorm recalibration
    "recalibrate_bn": "stats", "RecalibrationReport": "stats",
    # runtime watcher
    "watch": "watcher", "Watcher": "watcher", "ModeBugError": "watcher",
    # findings
    "Finding": "findings", "Severity": "findings", "RULES": "findings",
}

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'modeguard' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"modeguard.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs
    from modeguard.findings import RULES, Finding, Severity
    from modeguard.inspect import ModeReport, report
    from modeguard.modes import ModeState, eval_mode, inference, restore, snapshot, train_mode
    from modeguard.norm import (FrozenBatchNorm1d, FrozenBatchNorm2d, FrozenBatchNorm3d,
                                convert_frozen_bn, revert_frozen_bn)
    from modeguard.policy import freeze_bn, pin_mode, pinned, unfreeze_bn, unpin
    from modeguard.stats import RecalibrationReport, recalibrate_bn
    from modeguard.watcher import ModeBugError, Watcher, watch
