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
"""

from modeguard.findings import RULES, Finding, Severity
from modeguard.inspect import ModeReport, report
from modeguard.modes import ModeState, eval_mode, inference, restore, snapshot, train_mode
from modeguard.norm import (
    FrozenBatchNorm1d, FrozenBatchNorm2d, FrozenBatchNorm3d, convert_frozen_bn, revert_frozen_bn)
from modeguard.policy import freeze_bn, pin_mode, pinned, unfreeze_bn, unpin
from modeguard.stats import RecalibrationReport, recalibrate_bn
from modeguard.watch import ModeBugError, Watcher, watch

__version__ = "0.1.0"

__all__ = [
    # modes
    "ModeState", "snapshot", "restore", "eval_mode", "train_mode", "inference",
    # policies
    "freeze_bn", "unfreeze_bn", "pin_mode", "unpin", "pinned",
    # frozen BatchNorm layers
    "FrozenBatchNorm1d", "FrozenBatchNorm2d", "FrozenBatchNorm3d", "convert_frozen_bn",
    "revert_frozen_bn",
    # inspection
    "report", "ModeReport",
    # BatchNorm recalibration
    "recalibrate_bn", "RecalibrationReport",
    # runtime watcher
    "watch", "Watcher", "ModeBugError",
    # findings
    "Finding", "Severity", "RULES",
]
