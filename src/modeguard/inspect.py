"""What every mode-sensitive module of a model does right now: :func:`report`.

>>> import torch.nn as nn
>>> from modeguard import report, freeze_bn
>>> model = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4), nn.Dropout(0.25))
>>> _ = freeze_bn(model)
>>> r = report(model)
>>> [(row.name, row.mode, row.policy) for row in r.rows]
[('1', 'eval', 'frozen'), ('2', 'train', '')]
>>> r.rows[1].does
'zeroes each element with probability 0.25 and scales the rest by 1/(1-p) = 1.333'
>>> r.summary()
'2 mode-sensitive modules: 1 train, 1 eval; 1 pinned or frozen'
"""

from __future__ import annotations

import ast
import functools
import inspect as _pyinspect
import textwrap
from dataclasses import asdict, dataclass, field
from typing import Any

from rich.console import Console, ConsoleOptions, RenderResult
from rich.table import Table
from rich.text import Text
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.modules.dropout import _DropoutNd
from torch.nn.modules.instancenorm import _InstanceNorm

from modeguard.norm import _FrozenBatchNorm
from modeguard.policy import is_frozen, pin_of

__all__ = ["report", "ModeReport", "ModuleRow", "ReportWarning"]


@dataclass(frozen=True)
class ModuleRow:
    """One mode-sensitive module: where it is, its mode, its policy, what it does now."""

    name: str
    type: str
    kind: str  # dropout | batchnorm | instancenorm | rnn | attention | transformer | custom | frozen-bn
    mode: str  # "train" | "eval"
    policy: str  # "" | "frozen" | "pinned:train" | "pinned:eval" | "pinned:eval via <name>"
    does: str


@dataclass(frozen=True)
class ReportWarning:
    """Something in the model that is probably not what was meant."""

    kind: str  # mixed-modes | stats-never-updated | keras-momentum | eval-without-running-stats
    modules: tuple[str, ...]
    message: str


@dataclass
class ModeReport:
    """Result of :func:`report`. ``str()`` is plain text, rich renders a table."""

    model: str
    rows: list[ModuleRow] = field(default_factory=list)
    warnings: list[ReportWarning] = field(default_factory=list)

    def summary(self) -> str:
        n_train = sum(r.mode == "train" for r in self.rows)
        n_policy = sum(bool(r.policy) for r in self.rows)
        text = (f"{len(self.rows)} mode-sensitive module{'s' if len(self.rows) != 1 else ''}: "
                f"{n_train} train, {len(self.rows) - n_train} eval")
        return text + (f"; {n_policy} pinned or frozen" if n_policy else "")

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "summary": self.summary(),
                "modules": [asdict(r) for r in self.rows],
                "warnings": [{**asdict(w), "modules": list(w.modules)} for w in self.warnings]}

    def table(self) -> Table:
        table = Table(title=f"{self.model}: {self.summary()}", title_justify="left")
        table.add_column("module", overflow="fold")
        table.add_column("type")
        table.add_column("mode")
        table.add_column("policy")
        table.add_column("what it does now", overflow="fold", ratio=1)
        for r in self.rows:
            mode = Text(r.mode, style="green" if r.mode == "train" else "cyan")
            table.add_row(r.name, r.type, mode, r.policy, r.does)
        return table

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self.table()
        for w in self.warnings:
            yield Text(f"warning [{w.kind}]: {w.message}", style="yellow")

    def __str__(self) -> str:
        lines = [f"{self.model}: {self.summary()}"]
        for r in self.rows:
            policy = f" [{r.policy}]" if r.policy else ""
            lines.append(f"  {r.name} ({r.type}, {r.mode}{policy}): {r.does}")
        lines += [f"warning [{w.kind}]: {w.message}" for w in self.warnings]
        return "\n".join(lines)


# ------------------------------------------------------------------ sentences


def _fmt(x: float) -> str:
    return f"{x:.4g}"


def _momentum_phrase(m: Any, tracked: int) -> str:
    if m is None:
        return f"as a cumulative average over all {tracked} batches so far (momentum=None)"
    if m <= 0:
        return f"with momentum {_fmt(m)}: they never change"
    return f"momentum {_fmt(m)} \u2248 last {_fmt(1 / m)} batches"


def _dropout(m: nn.Module) -> str:
    p = float(getattr(m, "p", 0.0))
    if not m.training:
        return "passes the input through unchanged (identity)"
    if p == 0:
        return "p=0: passes the input through unchanged in either mode"
    if isinstance(m, (nn.AlphaDropout, nn.FeatureAlphaDropout)):
        unit = "channels" if isinstance(m, nn.FeatureAlphaDropout) else "elements"
        return (f"alpha dropout: sets {unit} to the SELU saturation value with probability "
                f"{_fmt(p)}, keeping mean and variance")
    unit = "whole channels" if isinstance(m, (nn.Dropout1d, nn.Dropout2d, nn.Dropout3d)) \
        else "each element"
    scale = "inf" if p >= 1 else _fmt(1 / (1 - p))
    return f"zeroes {unit} with probability {_fmt(p)} and scales the rest by 1/(1-p) = {scale}"


def _batchnorm(m: _BatchNorm) -> str:
    track = m.running_mean is not None
    tracked = int(m.num_batches_tracked) if getattr(m, "num_batches_tracked", None) is not None \
        else 0
    if m.training and track:
        return ("normalizes with batch statistics and updates running statistics, "
                + _momentum_phrase(m.momentum, tracked))
    if m.training:
        return "normalizes with batch statistics; keeps no running statistics"
    if track:
        return (f"normalizes with running statistics (updated over {tracked} batches); "
                "updates nothing")
    return ("normalizes with batch statistics even in eval mode: there are no running "
            "statistics (track_running_stats=False)")


def _instancenorm(m: _InstanceNorm) -> str:
    if m.training:
        return ("normalizes each sample with its own statistics and updates running "
                "statistics, " + _momentum_phrase(m.momentum, 0).split(" (")[0])
    return "normalizes with running statistics (track_running_stats=True); updates nothing"


def _rnn(m: nn.RNNBase) -> str:
    if m.training:
        return f"applies dropout {_fmt(m.dropout)} between its {m.num_layers} layers"
    return f"no dropout between its {m.num_layers} layers"


def _attention(m: nn.MultiheadAttention) -> str:
    if m.training:
        return (f"applies dropout {_fmt(m.dropout)} to the attention weights"
                if m.dropout > 0 else "no attention dropout (p=0)")
    return ("no attention dropout; with autograd off (no_grad/inference_mode) it may take "
            "the fused fast path")


def _transformer(m: nn.Module) -> str:
    if m.training:
        return "its dropout layers are active (listed separately)"
    return ("dropout off; with autograd off (no_grad/inference_mode) it may take the fused "
            "fast path")


@functools.lru_cache(maxsize=512)
def _forward_reads_training(cls: type) -> bool:
    """Whether ``cls.forward`` reads ``self.training`` (static look at its source)."""
    forward = getattr(cls, "forward", None)
    if forward is None or getattr(cls, "__module__", "").startswith("torch."):
        return False
    try:
        source = textwrap.dedent(_pyinspect.getsource(forward))
        tree = ast.parse(source)
    except (OSError, TypeError, SyntaxError, IndentationError):
        return False
    return any(isinstance(node, ast.Attribute) and node.attr == "training"
               and isinstance(node.value, ast.Name) and node.value.id == "self"
               for node in ast.walk(tree))


def _classify(m: nn.Module) -> tuple[str, str] | None:
    """``(kind, sentence)`` for a mode-sensitive module, else ``None``."""
    if isinstance(m, _FrozenBatchNorm):
        return "frozen-bn", "normalizes with fixed statistics in either mode (not mode-sensitive)"
    if isinstance(m, _DropoutNd):
        return "dropout", _dropout(m)
    if isinstance(m, _BatchNorm):
        return "batchnorm", _batchnorm(m)
    if isinstance(m, _InstanceNorm):
        return ("instancenorm", _instancenorm(m)) if m.track_running_stats else None
    if isinstance(m, nn.RNNBase):
        return ("rnn", _rnn(m)) if m.dropout > 0 and m.num_layers > 1 else None
    if isinstance(m, nn.MultiheadAttention):
        return "attention", _attention(m)
    if isinstance(m, (nn.TransformerEncoderLayer, nn.TransformerDecoderLayer)):
        return "transformer", _transformer(m)
    if _forward_reads_training(type(m)):
        how = "training" if m.training else "eval"
        return "custom", f"its forward reads self.training: runs its {how}-mode branch"
    return None


# ------------------------------------------------------------------ report


def _policies(model: nn.Module) -> dict[int, str]:
    out: dict[int, str] = {}
    for name, m in model.named_modules():
        pin = pin_of(m)
        if pin is None:
            continue
        out[id(m)] = "frozen" if is_frozen(m) else f"pinned:{pin}"
        for sub_name, sub in m.named_modules(prefix=name):
            if sub is not m and pin_of(sub) is None:
                out.setdefault(id(sub), f"pinned:{pin} via {name or '<root>'}")
    return out


def report(model: nn.Module) -> ModeReport:
    """One row per mode-sensitive module of ``model``, plus warnings.

    Mode-sensitive: Dropout variants, BatchNorm variants (SyncBatchNorm and lazy
    ones included), InstanceNorm with ``track_running_stats=True``, RNN/LSTM/GRU
    with inter-layer dropout, MultiheadAttention and Transformer layers, and custom
    modules whose ``forward`` reads ``self.training``. FrozenBatchNorm layers are
    listed too, as not mode-sensitive. LayerNorm and GroupNorm are not listed:
    they behave the same in both modes.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"report() expects a torch.nn.Module, got {type(model).__name__}")
    policies = _policies(model)
    result = ModeReport(model=type(model).__name__)
    for name, m in model.named_modules():
        found = _classify(m)
        if found is None:
            continue
        kind, does = found
        result.rows.append(ModuleRow(name or "<root>", type(m).__name__, kind,
                                     "train" if m.training else "eval",
                                     policies.get(id(m), ""), does))
    result.warnings.extend(_warnings(model, result.rows))
    return result


def _names(names: list[str], limit: int = 4) -> str:
    shown = ", ".join(f"'{n}'" if " " not in n else n for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _warnings(model: nn.Module, rows: list[ModuleRow]) -> list[ReportWarning]:
    out: list[ReportWarning] = []
    free = [r for r in rows if not r.policy and r.kind != "frozen-bn"]
    train = [r.name for r in free if r.mode == "train"]
    evals = [r.name for r in free if r.mode == "eval"]
    if train and evals:
        minority, mode = (evals, "eval") if len(evals) <= len(train) else (train, "train")
        other = "train" if mode == "eval" else "eval"
        out.append(ReportWarning(
            "mixed-modes", tuple(minority),
            f"mixed modes: {_names(minority)} in {mode} mode while the rest is in {other} mode "
            "and no modeguard policy explains it (a freeze done with .eval() is undone by the "
            "next model.train(); use freeze_bn or pin_mode)"))
    by_name = dict(model.named_modules())
    never, keras, nostats = [], [], []
    for r in rows:
        m = by_name.get("" if r.name == "<root>" else r.name)
        if not isinstance(m, (_BatchNorm, _InstanceNorm)):
            continue
        track = getattr(m, "running_mean", None) is not None
        nbt = getattr(m, "num_batches_tracked", None)
        if r.mode == "eval" and track and nbt is not None and int(nbt) == 0 \
                and isinstance(m, _BatchNorm):
            never.append(r.name)
        if m.momentum is not None and m.momentum >= 0.5:
            keras.append(f"{r.name} (momentum={_fmt(m.momentum)})")
        if r.mode == "eval" and not track and isinstance(m, _BatchNorm):
            nostats.append(r.name)
    if never:
        out.append(ReportWarning(
            "stats-never-updated", tuple(never),
            f"{_names(never)}: eval-mode BatchNorm whose running statistics were never updated "
            "(num_batches_tracked == 0): it normalizes with mean 0 and variance 1. Train it, "
            "load a checkpoint, or recalibrate_bn() it first"))
    if keras:
        out.append(ReportWarning(
            "keras-momentum", tuple(k.split(" (")[0] for k in keras),
            f"{_names(keras)}: PyTorch momentum is the weight of the NEW batch; a Keras/TF-style "
            "value (>= 0.5) makes the running statistics follow the last batch or two. Keras 0.9 "
            "or 0.99 corresponds to PyTorch 0.1 or 0.01"))
    if nostats:
        out.append(ReportWarning(
            "eval-without-running-stats", tuple(nostats),
            f"{_names(nostats)}: eval-mode BatchNorm with track_running_stats=False still "
            "normalizes with the statistics of each batch, so outputs depend on the batch"))
    return out
