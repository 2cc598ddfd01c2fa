"""The rule catalog and the :class:`Finding` record.

One mode bug has one code, whichever detector finds it: the linter in source
code, the watcher at run time, or the diagnosis of a model. This module is the
single place where codes, names, severities and documentation live.

>>> from modeguard.findings import RULES, Finding
>>> RULES["MG201"].name
'functional-dropout-ungated'
>>> f = Finding("MG201", "F.dropout without training=self.training", path="net.py", line=12, col=8)
>>> f.format()
'net.py:12:8: MG201 F.dropout without training=self.training'
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

__all__ = [
    "Severity",
    "Rule",
    "Location",
    "Finding",
    "RULES",
    "get_rule",
    "default_codes",
    "resolve_codes",
    "doc_path",
]


class Severity(str, enum.Enum):
    """How bad a finding is. Ordered: ``ERROR > WARNING > INFO``."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 2, "warning": 1, "info": 0}[self.value]

    def lowered(self) -> "Severity":
        """One step less severe (used when the linter cannot prove the model's type)."""
        return {Severity.ERROR: Severity.WARNING}.get(self, Severity.INFO)


@dataclass(frozen=True)
class Rule:
    """One entry of the catalog."""

    code: str
    name: str
    summary: str
    summary_zh: str
    severity: Severity
    default: bool
    detectors: frozenset[str]

    @property
    def doc(self) -> str:
        """Path of the rule's page, relative to the repository root."""
        return f"docs/rules/{self.code}.md"

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "summary": self.summary,
            "summary_zh": self.summary_zh,
            "severity": self.severity.value,
            "default": self.default,
            "detectors": sorted(self.detectors),
            "doc": self.doc,
        }


def _rule(code: str, name: str, severity: str, default: bool, detectors: str,
          summary: str, summary_zh: str) -> Rule:
    return Rule(code, name, summary, summary_zh, Severity(severity), default,
                frozenset(detectors.split()))


_CATALOG: tuple[Rule, ...] = (
    _rule("MG101", "train-mode-not-restored", "error", True, "lint watch",
          "A backward pass or optimizer step can run after eval() with no train() in between: "
          "training continues with dropout off and BatchNorm statistics frozen.",
          "eval() 之后没有再调用 train() 就执行了反向传播或优化器更新：训练在 dropout 关闭、"
          "BatchNorm 统计量冻结的状态下继续。"),
    _rule("MG102", "inference-without-eval", "error", True, "lint watch",
          "Validation, test or inference forward passes run on a model that is (or may be) in "
          "training mode: dropout stays active and BatchNorm uses and updates batch statistics.",
          "验证、测试或推理时模型处于（或可能处于）训练模式：dropout 仍然生效，"
          "BatchNorm 使用并更新当前批次的统计量。"),
    _rule("MG103", "eval-leaks-to-caller", "warning", False, "lint",
          "A function switches a model it did not create to eval mode and does not restore the "
          "previous mode before returning.",
          "函数把并非自己创建的模型切换到 eval 模式，返回前没有恢复原来的模式。"),
    _rule("MG104", "broken-train-override", "error", True, "lint",
          "train() is overridden without the mode argument, without returning self or without "
          "recursing into children, or a method such as train/eval/freeze_bn is shadowed by an "
          "attribute.",
          "重写的 train() 缺少 mode 参数、没有返回 self 或没有递归到子模块；"
          "或 train/eval/freeze_bn 等方法被同名属性覆盖。"),
    _rule("MG201", "functional-dropout-ungated", "error", True, "lint",
          "F.dropout and its variants default to training=True: called in a module without "
          "training=self.training they keep dropping in eval mode.",
          "F.dropout 及其变体默认 training=True：在模块中未传 training=self.training 时，"
          "eval 模式下仍会随机丢弃。"),
    _rule("MG202", "attention-dropout-ungated", "error", True, "lint",
          "scaled_dot_product_attention / flash-attention / xformers dropout_p is not gated on "
          "self.training, so attention dropout stays on at evaluation time.",
          "scaled_dot_product_attention / flash-attention / xformers 的 dropout_p 没有依据 "
          "self.training 置零，评估时注意力 dropout 仍然生效。"),
    _rule("MG203", "mode-dependent-state-mutation", "error", True, "lint",
          "forward() mutates module state depending on the mode (e.g. sets self.dropout_p = 0 "
          "when not training), so one evaluation changes training for good.",
          "forward() 根据模式修改模块状态（例如非训练时把 self.dropout_p 设为 0），"
          "一次评估就永久改变了之后的训练。"),
    _rule("MG301", "bn-freeze-undone", "error", True, "lint watch",
          "BatchNorm layers put in eval mode to freeze them are switched back to training mode "
          "by a later train() on an ancestor, with no re-freeze.",
          "为冻结而设为 eval 的 BatchNorm 层，被之后对父模块调用的 train() 重新切回训练模式，"
          "且没有再次冻结。"),
    _rule("MG302", "bn-freeze-incomplete", "warning", True, "lint",
          "BatchNorm affine parameters are frozen with requires_grad=False while the running "
          "statistics keep updating in training mode.",
          "只用 requires_grad=False 冻结了 BatchNorm 的仿射参数，训练模式下运行统计量仍在更新。"),
    _rule("MG303", "bn-momentum-convention", "warning", True, "lint",
          "nn.BatchNorm momentum is the weight of the new batch; a Keras/TensorFlow-style value "
          "(>= 0.5, e.g. 0.9 or 0.99) makes the running statistics follow the last batch.",
          "PyTorch 的 BatchNorm momentum 是新批次的权重；Keras/TensorFlow 风格的取值"
          "（≥ 0.5，如 0.9、0.99）会让运行统计量几乎只反映最后一个批次。"),
    _rule("MG304", "bn-tiny-batch", "warning", True, "watch",
          "BatchNorm runs in training mode on batches with one (or very few) values per channel: "
          "the statistics are noisy or the forward fails.",
          "BatchNorm 在训练模式下处理每个通道只有一个（或极少）值的批次：统计量噪声很大或直接报错。"),
    _rule("MG401", "eval-without-no-grad", "info", True, "lint watch",
          "Evaluation forward passes run with autograd enabled and no backward: the graph is "
          "kept for nothing and memory is wasted.",
          "评估时启用了自动求导却从不反向传播：计算图白白占用内存。"),
    _rule("MG501", "tf-bn-update-ops-missing", "error", True, "lint",
          "TF1 batch normalization whose moving statistics are never updated because the train "
          "op does not depend on tf.GraphKeys.UPDATE_OPS.",
          "TF1 的 batch normalization 的滑动统计量从不更新：训练操作没有依赖 "
          "tf.GraphKeys.UPDATE_OPS。"),
    _rule("MG502", "tf-training-flag", "warning", True, "lint",
          "TF/Keras dropout or batch normalization whose training flag is constant or missing "
          "(tf.layers defaults to training=False).",
          "TF/Keras 的 dropout 或 batch normalization 的 training 参数是常量或缺失"
          "（tf.layers 默认 training=False）。"),
)

RULES: Mapping[str, Rule] = {r.code: r for r in _CATALOG}
_BY_NAME: Mapping[str, Rule] = {r.name: r for r in _CATALOG}


def get_rule(code_or_name: str) -> Rule:
    """Look a rule up by code (``"MG101"``) or name (``"train-mode-not-restored"``)."""
    key = code_or_name.strip()
    rule = RULES.get(key.upper()) or _BY_NAME.get(key.lower())
    if rule is None:
        known = ", ".join(RULES)
        raise ValueError(f"unknown rule {code_or_name!r}; known codes: {known} "
                         "(run `modeguard rules` for the list)")
    return rule


def default_codes(detector: str | None = None) -> frozenset[str]:
    """Codes on by default, optionally only those a detector (lint/watch/diagnose) implements."""
    return frozenset(r.code for r in _CATALOG
                     if r.default and (detector is None or detector in r.detectors))


def _expand(selectors: Iterable[str], universe: Iterable[str]) -> set[str]:
    universe = list(universe)
    out: set[str] = set()
    for raw in selectors:
        sel = raw.strip().upper()
        if not sel:
            continue
        if sel == "ALL":
            out.update(universe)
            continue
        if sel in _BY_NAME.keys() or raw.strip().lower() in _BY_NAME:
            out.add(_BY_NAME[raw.strip().lower()].code)
            continue
        matched = {c for c in universe if c.startswith(sel)}
        if not matched:
            raise ValueError(f"{raw!r} matches no rule code; use a code or prefix such as "
                             "MG101, MG2 or ALL (run `modeguard rules`)")
        out.update(matched)
    return out


def resolve_codes(select: Iterable[str] | None = None, ignore: Iterable[str] | None = None,
                  extend_select: Iterable[str] | None = None,
                  detector: str | None = None) -> frozenset[str]:
    """The enabled codes for a detector given flake8/ruff-style selectors.

    ``select`` replaces the default set (prefixes allowed: ``"MG1"``, ``"ALL"``);
    ``extend_select`` adds to it; ``ignore`` removes from the result.

    >>> sorted(resolve_codes(select=["MG2"], detector="lint"))
    ['MG201', 'MG202', 'MG203']
    >>> "MG103" in resolve_codes(extend_select=["MG103"], detector="lint")
    True
    """
    universe = [r.code for r in _CATALOG if detector is None or detector in r.detectors]
    enabled = _expand(select, universe) if select else set(default_codes(detector))
    if extend_select:
        enabled |= _expand(extend_select, universe)
    if ignore:
        enabled -= _expand(ignore, universe)
    return frozenset(enabled)


@dataclass(frozen=True)
class Location:
    """A place in a source file, with an optional note on what happened there."""

    path: str
    line: int
    col: int = 0
    note: str = ""

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "line": self.line, "col": self.col, "note": self.note}


@dataclass
class Finding:
    """One detected mode bug. Every detector produces these.

    ``path``/``line``/``col`` locate the primary site (where it hurts); ``related``
    holds other relevant sites (e.g. the ``eval()`` call that caused it).
    ``severity`` defaults to the rule's; ``count`` says how often the same site fired.
    """

    code: str
    message: str
    path: str | None = None
    line: int | None = None
    col: int = 0
    severity: Severity | None = None
    hint: str = ""
    related: tuple[Location, ...] = ()
    count: int = 1
    detector: str = "lint"
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        rule = get_rule(self.code)
        self.code = rule.code
        if self.severity is None:
            self.severity = rule.severity
        elif not isinstance(self.severity, Severity):
            self.severity = Severity(self.severity)

    @property
    def rule(self) -> Rule:
        return RULES[self.code]

    @property
    def key(self) -> tuple[str, str | None, int | None]:
        """Deduplication key: one finding per code and site."""
        return (self.code, self.path, self.line)

    def format(self) -> str:
        """``path:line:col: CODE message`` (the form editors and CI understand)."""
        where = f"{self.path}:{self.line}:{self.col}: " if self.path else ""
        return f"{where}{self.code} {self.message}"

    def to_dict(self) -> dict[str, Any]:
        assert self.severity is not None
        return {
            "code": self.code,
            "name": self.rule.name,
            "severity": self.severity.value,
            "message": self.message,
            "path": self.path,
            "line": self.line,
            "col": self.col,
            "hint": self.hint,
            "related": [loc.to_dict() for loc in self.related],
            "count": self.count,
            "detector": self.detector,
            "doc": self.rule.doc,
            **({"extra": self.extra} if self.extra else {}),
        }


def doc_path(code: str) -> Path | None:
    """The rule page on disk (repository checkout or installed package data), if present."""
    rule = get_rule(code)
    here = Path(__file__).resolve().parent
    for base in (here.parent.parent, here):  # src checkout: repo root; wheel: package data
        candidate = base / rule.doc
        if candidate.is_file():
            return candidate
    return None
