"""Exact BatchNorm recalibration: :func:`recalibrate_bn`.

BatchNorm's running statistics are an exponential moving average of per-batch
statistics taken while the weights kept changing: after weight averaging
(SWA/EMA), pruning, quantisation, a change of data or simply a noisy small-batch
run they no longer describe what each layer sees. ``recalibrate_bn`` recomputes
them as exact population statistics over the data you give it.

How: every target layer runs in training mode with momentum 1.0, so after each
forward its buffers hold exactly that batch's mean and unbiased variance; a
forward hook turns them into per-channel ``(count, mean, M2)`` and merges them
into float64 accumulators with Chan's parallel formula, so the result is the mean and variance over *all* values seen
(every sample and spatial position counts) whatever the batch order or sizes.
Under ``torch.distributed`` the per-rank triples are gathered and merged the same
way, so every rank ends with identical statistics.

>>> import torch, torch.nn as nn
>>> from modeguard import recalibrate_bn
>>> model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 1))
>>> data = [torch.randn(16, 3) for _ in range(8)]
>>> report = recalibrate_bn(model, data, progress=False)
>>> report.batches, report.layers[0].samples
(8, 128)
"""

from __future__ import annotations

import collections.abc
import math
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterable, Literal, Sequence

import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.modules.dropout import _DropoutNd

from modeguard.modes import _counted, restore, snapshot
from modeguard.policy import pin_of

__all__ = ["recalibrate_bn", "RecalibrationReport", "LayerRecalibration", "RecalibrationError",
           "Moments"]


_FOLD_EVERY = 64  # per-batch statistics kept before folding them into the accumulator


class RecalibrationError(RuntimeError):
    """The recalibration could not run; the model is exactly as before."""


# ------------------------------------------------------------------ streaming moments


@dataclass
class Moments:
    """Per-channel ``count``, ``mean`` and ``M2`` (sum of squared deviations), float64.

    ``merge`` combines two sets exactly (Chan, Golub & LeVeque's parallel update):
    the result equals the moments of the concatenated data up to float rounding.

    >>> import torch
    >>> x = torch.randn(100, 3, dtype=torch.float64)
    >>> m = Moments.of(x[:30], 1).merge(Moments.of(x[30:], 1))
    >>> bool(torch.allclose(m.var(), x.var(0)))
    True
    """

    count: int
    mean: torch.Tensor
    m2: torch.Tensor

    @classmethod
    def of(cls, x: torch.Tensor, channel_dim: int = 1) -> "Moments":
        """Moments of ``x`` per channel along ``channel_dim``, all other dims pooled."""
        x = x.detach()
        if x.dtype not in (torch.float32, torch.float64):
            x = x.float()
        dims = [d for d in range(x.dim()) if d != channel_dim]
        count = x.numel() // x.shape[channel_dim] if x.numel() else 0
        if count == 0:
            zeros = torch.zeros(x.shape[channel_dim], dtype=torch.float64, device=x.device)
            return cls(0, zeros, zeros.clone())
        var, mean = torch.var_mean(x, dim=dims, correction=0)  # stable two-pass per batch
        mean = mean.to(torch.float64)
        return cls(count, mean, var.to(torch.float64) * count)

    def merge(self, other: "Moments") -> "Moments":
        if other.count == 0:
            return self
        if self.count == 0:
            return other
        n = self.count + other.count
        delta = other.mean - self.mean
        mean = self.mean + delta * (other.count / n)
        m2 = self.m2 + other.m2 + delta * delta * (self.count * other.count / n)
        return Moments(n, mean, m2)

    @classmethod
    def combine(cls, counts: list[int], means: torch.Tensor, variances: torch.Tensor
                ) -> "Moments":
        """Exact moments of ``k`` per-batch results at once (vectorized, float64).

        ``means`` and ``variances`` are ``(k, C)``: each batch's mean and *unbiased* variance.
        """
        total = sum(counts)
        n = torch.tensor(counts, dtype=torch.float64, device=means.device).unsqueeze(1)
        mu = means.to(torch.float64)
        mean = (n * mu).sum(0) / total
        m2 = (variances.to(torch.float64) * (n - 1) + n * (mu - mean) ** 2).sum(0)
        return cls(total, mean, m2)

    def var(self, unbiased: bool = True) -> torch.Tensor:
        return self.m2 / (self.count - 1 if unbiased else self.count)


# ------------------------------------------------------------------ report


@dataclass(frozen=True)
class LayerRecalibration:
    """What happened to one BatchNorm layer."""

    name: str
    samples: int  # values per channel that went into the statistics
    batches: int
    mean_shift: float  # max over channels |new - old| mean, in units of the old std
    var_shift: float  # max over channels |new / old - 1| of the variance


@dataclass
class RecalibrationReport:
    """Result of :func:`recalibrate_bn`. ``str()`` renders a table; ``to_dict()`` for JSON."""

    layers: list[LayerRecalibration] = field(default_factory=list)
    batches: int = 0
    seconds: float = 0.0
    early_exit_batches: int = 0
    skipped_fraction: float = 0.0  # estimated share of module forward calls skipped
    unreached: list[str] = field(default_factory=list)
    world_size: int = 1

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["layers"] = [asdict(layer) for layer in self.layers]
        return d

    def __str__(self) -> str:
        from io import StringIO

        from rich.console import Console
        from rich.table import Table

        table = Table(title=(f"recalibrate_bn: {len(self.layers)} layers, {self.batches} "
                             f"batches, {self.seconds:.2f} s, early exit in "
                             f"{self.early_exit_batches} batches (~{self.skipped_fraction:.0%} "
                             "of module calls skipped)"
                             + (f", {self.world_size} ranks" if self.world_size > 1 else "")),
                      title_justify="left")
        for col in ("layer", "samples", "batches", "mean shift (old std)", "var shift"):
            table.add_column(col, justify="left" if col == "layer" else "right")
        for layer in self.layers:
            table.add_row(layer.name, str(layer.samples), str(layer.batches),
                          f"{layer.mean_shift:.3g}", f"{layer.var_shift:.1%}")
        buf = StringIO()
        Console(file=buf, width=110, color_system=None).print(table)
        text = buf.getvalue().rstrip()
        if self.unreached:
            text += ("\nnot reached by any batch (left unchanged): " + ", ".join(self.unreached))
        return text


# ------------------------------------------------------------------ helpers


class _StopForward(Exception):
    """Raised from a hook once every target layer has seen the current batch."""


def _unwrap(model: nn.Module) -> nn.Module:
    while True:
        if isinstance(model, nn.parallel.DistributedDataParallel | nn.DataParallel):
            model = model.module
        elif hasattr(model, "_orig_mod") and isinstance(model._orig_mod, nn.Module):
            model = model._orig_mod  # torch.compile wrapper: hooks must see eager modules
        else:
            return model


def _move(batch: Any, device: torch.device | str | None) -> Any:
    if device is None:
        return batch
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, dict):
        moved = {k: _move(v, device) for k, v in batch.items()}
        try:
            return type(batch)(moved)
        except Exception:  # mappings whose constructor takes something else
            return moved
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):  # namedtuple
        return type(batch)(*(_move(v, device) for v in batch))
    if isinstance(batch, (list, tuple)):
        return type(batch)(_move(v, device) for v in batch)
    return batch


def _default_forward(model: nn.Module, batch: Any) -> Any:
    if isinstance(batch, torch.Tensor):
        return model(batch)
    if isinstance(batch, (list, tuple)) and batch:
        return model(batch[0])  # (inputs, targets, ...) as data loaders yield
    raise TypeError(f"cannot feed a batch of type {type(batch).__name__} to the model by "
                    "default (tensors and (inputs, ...) tuples/lists are fed as model(x)); pass "
                    "forward=lambda model, batch: model(**batch) or similar")


def _held_by_policy(model: nn.Module) -> set[int]:
    """Modules pinned or frozen by modeguard, and everything under a pinned module."""
    held: set[int] = set()
    for m in model.modules():
        if pin_of(m) is not None:
            held.update(id(sub) for sub in m.modules())
    return held


def _select_targets(model: nn.Module, layers: Any) -> list[tuple[str, _BatchNorm]]:
    named = [(n, m) for n, m in model.named_modules() if isinstance(m, _BatchNorm)]
    if not named:
        raise ValueError("recalibrate_bn(): the model contains no BatchNorm layer")
    held = _held_by_policy(model)
    if layers is None:
        targets = [(n, m) for n, m in named if id(m) not in held and m.running_mean is not None]
        if not targets:
            raise ValueError("recalibrate_bn(): every BatchNorm layer is frozen/pinned by "
                             "modeguard or has track_running_stats=False; nothing to "
                             "recalibrate (unfreeze_bn() first, or pass layers=)")
        return targets
    items = [layers] if isinstance(layers, (str, nn.Module)) else list(layers)
    if not items:
        raise ValueError("recalibrate_bn(layers=[]): the selection is empty")
    by_name = dict(named)
    by_id = {id(m): n for n, m in named}
    chosen: dict[int, tuple[str, _BatchNorm]] = {}
    for item in items:
        if isinstance(item, str):
            if item not in by_name:
                raise ValueError(f"recalibrate_bn(layers=...): no BatchNorm layer named {item!r}"
                                 f"; BatchNorm layers are: {', '.join(by_name) or 'none'}")
            name, m = item, by_name[item]
        elif isinstance(item, nn.Module):
            if id(item) not in by_id:
                raise ValueError("recalibrate_bn(layers=...): a module given is not a "
                                 "BatchNorm layer of this model")
            name, m = by_id[id(item)], item  # type: ignore[assignment]
        else:
            raise TypeError(f"recalibrate_bn(layers=...) takes names or modules, got "
                            f"{type(item).__name__}")
        if id(m) in held:
            raise ValueError(f"recalibrate_bn(): {name!r} is frozen or pinned by modeguard; "
                             "unfreeze_bn()/unpin() it first")
        if m.running_mean is None:
            raise ValueError(f"recalibrate_bn(): {name!r} has track_running_stats=False: it has "
                             "no running statistics to recalibrate")
        chosen[id(m)] = (name, m)
    return list(chosen.values())


def _dist_world(process_group: Any) -> tuple[bool, int]:
    import torch.distributed as dist

    if process_group is not None or (dist.is_available() and dist.is_initialized()):
        return True, dist.get_world_size(process_group)
    return False, 1


def _all_ok(flag: bool, process_group: Any) -> bool:
    """Every rank says whether its pass succeeded (so no rank waits forever on a failed one)."""
    import torch.distributed as dist

    t = torch.tensor([0.0 if flag else 1.0], dtype=torch.float64)
    dist.all_reduce(t, group=process_group)
    return t.item() == 0.0


def _gather_moments(moments: list[Moments], batches: list[int], process_group: Any
                    ) -> tuple[list[Moments], list[int]]:
    """Merge every rank's moments in rank order: identical result on every rank."""
    import torch.distributed as dist

    parts = []
    for m, b in zip(moments, batches):
        parts += [torch.tensor([float(m.count), float(b)], dtype=torch.float64),
                  m.mean.cpu(), m.m2.cpu()]
    flat = torch.cat(parts)
    world = dist.get_world_size(process_group)
    gathered = [torch.empty_like(flat) for _ in range(world)]
    dist.all_gather(gathered, flat, group=process_group)
    out_m = [Moments(0, torch.zeros_like(m.mean), torch.zeros_like(m.m2)) for m in moments]
    out_b = [0] * len(moments)
    for rank_flat in gathered:
        pos = 0
        for i, m in enumerate(moments):
            c = m.mean.numel()
            count, b = int(rank_flat[pos].item()), int(rank_flat[pos + 1].item())
            mean = rank_flat[pos + 2:pos + 2 + c].to(m.mean.device)
            m2 = rank_flat[pos + 2 + c:pos + 2 + 2 * c].to(m.mean.device)
            pos += 2 + 2 * c
            out_m[i] = out_m[i].merge(Moments(count, mean, m2))
            out_b[i] += b
    return out_m, out_b


def _progress(progress: bool, total: int | None) -> Any:
    if not progress:
        return _NoProgress()
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                               TimeElapsedColumn)

    class _Rate(TextColumn):
        def render(self, task):  # type: ignore[no-untyped-def]
            speed = task.finished_speed or task.speed
            from rich.text import Text
            return Text(f"{speed:.1f} batches/s" if speed else "")

    return Progress(TextColumn("recalibrate_bn"), BarColumn(), MofNCompleteColumn(), _Rate(""),
                    TimeElapsedColumn(), transient=True)


class _NoProgress:
    def __enter__(self) -> "_NoProgress":
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def add_task(self, *args: Any, **kwargs: Any) -> int:
        return 0

    def advance(self, task: int) -> None:
        return None


# ------------------------------------------------------------------ the pass


def recalibrate_bn(model: nn.Module, data: Iterable[Any], *, num_batches: int | None = None,
                   forward: Callable[[nn.Module, Any], Any] | None = None,
                   device: torch.device | str | None = None,
                   layers: Sequence[str | nn.Module] | str | nn.Module | None = None,
                   dropout: Literal["eval", "train"] = "eval", progress: bool = True,
                   process_group: Any = None) -> RecalibrationReport:
    """Recompute BatchNorm running statistics exactly over ``data``.

    Args:
        model: the model (plain, ``DistributedDataParallel``, ``DataParallel`` or
            ``torch.compile`` wrapped; the underlying module is run).
        data: any iterable of batches: tensors, ``(inputs, ...)`` tuples/lists, or
            anything ``forward`` understands (dicts, custom objects).
        num_batches: use at most this many batches.
        forward: ``forward(module, batch)`` runs one batch; default ``module(batch)``
            for tensors and ``module(batch[0])`` for tuples/lists.
        device: move tensors in each batch (recursively) to this device.
        layers: recalibrate only these BatchNorm layers (names or modules); default:
            every BatchNorm with running statistics not frozen or pinned by modeguard.
        dropout: ``"eval"`` (default) switches Dropout (and RNN/attention dropout)
            off during the pass so the statistics match inference; ``"train"`` keeps
            the current modes.
        progress: show a progress bar with batches/s.
        process_group: reduce across this group; by default the default group when
            ``torch.distributed`` is initialised. Every rank must call this function
            (the batches per rank may differ).

    The target layers run in training mode (as during training) and get
    ``running_mean`` = population mean, ``running_var`` = unbiased population
    variance over every value seen, ``num_batches_tracked`` increased by the
    number of batches that reached them. Frozen/pinned layers, every other buffer,
    every module's mode and every momentum are left exactly as they were. On any
    error or KeyboardInterrupt nothing is changed. Returns a
    :class:`RecalibrationReport`.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"recalibrate_bn() expects a torch.nn.Module, got {type(model).__name__}")
    if isinstance(data, (torch.Tensor, str, bytes)) or not isinstance(data, Iterable):
        raise TypeError("recalibrate_bn(data=...) expects an iterable of batches (a DataLoader, "
                        f"a list of tensors, ...), got {type(data).__name__}")
    if num_batches is not None and (not isinstance(num_batches, int) or num_batches < 1):
        raise ValueError(f"num_batches must be a positive int or None, got {num_batches!r}")
    if dropout not in ("eval", "train"):
        raise ValueError(f"dropout={dropout!r}: use 'eval' (default) or 'train'")
    if forward is not None and not callable(forward):
        raise TypeError("forward must be a callable forward(model, batch)")
    inner = _unwrap(model)
    targets = _select_targets(inner, layers)
    run = forward or _default_forward
    distributed, world = _dist_world(process_group)

    # --- everything we might touch, saved for an exact restore
    all_bn = [m for m in inner.modules() if isinstance(m, _BatchNorm)]
    saved_buffers = [(b, b.detach().clone()) for m in all_bn for b in m.buffers(recurse=False)]
    saved_momentum = [(m, m.momentum) for m in all_bn]
    modes = snapshot(inner)
    held = _held_by_policy(inner)
    handles: list[Any] = []
    patched: list[nn.Module] = []

    def put_back() -> None:
        for h in handles:
            h.remove()
        for m, mean_buf, var_buf in original:  # the very same tensor objects (DDP keeps them)
            m._buffers["running_mean"] = mean_buf
            m._buffers["running_var"] = var_buf
        for m in patched:
            m.__dict__.pop("forward", None)
        with torch.no_grad():
            for b, copy in saved_buffers:
                b.copy_(copy)
        for m, mom in saved_momentum:
            m.momentum = mom
        restore(inner, modes)

    index = {id(m): i for i, (_, m) in enumerate(targets)}
    moments = [Moments(0, torch.zeros(m.num_features, dtype=torch.float64),
                       torch.zeros(m.num_features, dtype=torch.float64)) for _, m in targets]
    seen_batches = [0] * len(targets)
    state = {"seen": set(), "calls": collections.Counter(), "first": True, "early": True,
             "module_calls": 0, "stop_at": None}
    n_target = len(targets)

    # With momentum 1.0 a training-mode BatchNorm leaves exactly this batch's mean and
    # unbiased variance in its running buffers (computed by torch's kernel, accumulated in
    # double on CPU), so the hook reads them instead of reducing the input a second time.
    # Layers with half-precision buffers reduce the input themselves (no precision lost).
    reads_buffers = [m.running_mean.dtype in (torch.float32, torch.float64) for _, m in targets]

    # The layers write each batch's statistics straight into rows of these tensors (their
    # running buffers are swapped for the rows during the pass): no copy per forward.
    rows: list[tuple[torch.Tensor, torch.Tensor] | None] = [
        (torch.zeros(_FOLD_EVERY, m.num_features, dtype=m.running_mean.dtype,
                     device=m.running_mean.device),
         torch.zeros(_FOLD_EVERY, m.num_features, dtype=m.running_var.dtype,
                     device=m.running_var.device)) if reads_buffers[i] else None
        for i, (_, m) in enumerate(targets)]
    row_counts: list[list[int]] = [[] for _ in targets]
    original = [(m, m._buffers["running_mean"], m._buffers["running_var"]) for _, m in targets]

    def point(i: int, k: int) -> None:
        m = targets[i][1]
        r = rows[i]
        assert r is not None
        m._buffers["running_mean"] = r[0][k]
        m._buffers["running_var"] = r[1][k]

    def fold(i: int) -> None:
        counts, r = row_counts[i], rows[i]
        if r is None or not counts:
            return
        k = len(counts)
        moments[i] = moments[i].merge(Moments.combine(counts, r[0][:k], r[1][:k]))
        row_counts[i] = []
        r[0].zero_()
        r[1].zero_()
        point(i, 0)

    def hook(module: nn.Module, args: tuple, out: Any) -> None:
        i = index[id(module)]
        x = args[0]
        if reads_buffers[i]:
            counts = row_counts[i]
            counts.append(x.numel() // x.shape[1])
            if len(counts) == _FOLD_EVERY:
                fold(i)  # bounded memory: fold into the float64 accumulator
            else:
                point(i, len(counts))
        else:
            moments[i] = moments[i].merge(Moments.of(x, 1))
        if i not in state["seen"]:
            state["seen"].add(i)
            seen_batches[i] += 1
        if state["first"]:
            state["calls"][i] += 1
            if len(state["seen"]) == n_target and state["stop_at"] is None:
                state["stop_at"] = state["module_calls"] + 1  # this layer included
            return
        if state["early"] and len(state["seen"]) == n_target:
            raise _StopForward

    def count_hook(module: nn.Module, args: tuple, out: Any) -> None:
        state["module_calls"] += 1

    report = RecalibrationReport(world_size=world)
    start = time.perf_counter()
    full_calls = 0
    status_sent = False
    try:
        for _, m in targets:
            m.training = True
            m.momentum = 1.0  # restored by put_back()
            handles.append(m.register_forward_hook(hook))
            if type(m).forward is not _BatchNorm.forward:  # SyncBatchNorm: no collectives
                m.__dict__["forward"] = _BatchNorm.forward.__get__(m)
                patched.append(m)
        for i in range(n_target):
            if rows[i] is not None:
                point(i, 0)
        if dropout == "eval":
            for m in inner.modules():
                if id(m) not in held and isinstance(
                        m, (_DropoutNd, nn.RNNBase, nn.MultiheadAttention)):
                    m.training = False
        count_handles = [m.register_forward_hook(count_hook) for m in inner.modules()
                         if not m._modules]
        handles.extend(count_handles)
        total = num_batches
        if total is None and isinstance(data, collections.abc.Sized):
            total = len(data)
        # _counted(): a modeguard context, so the watcher does not report these passes
        with torch.no_grad(), _counted(), _progress(progress, total) as bar:
            task = bar.add_task("batches", total=total)
            for i, batch in enumerate(data):
                if num_batches is not None and i >= num_batches:
                    break
                state["seen"] = set()
                try:
                    run(inner, _move(batch, device))
                except _StopForward:
                    report.early_exit_batches += 1
                except (KeyboardInterrupt, SystemExit):
                    raise
                except Exception as exc:
                    if "more than 1 value per channel" in str(exc):
                        raise RecalibrationError(
                            f"recalibrate_bn(): batch {i} has a single value per channel, which "
                            "BatchNorm cannot normalize in training mode; use batches of at "
                            "least 2 samples (e.g. DataLoader(..., drop_last=True)). The model "
                            "is unchanged") from exc
                    raise RecalibrationError(
                        f"recalibrate_bn(): the forward pass failed on batch {i} "
                        f"({type(exc).__name__}: {exc}); the model is unchanged. Check the "
                        "batch format, or pass forward=lambda model, batch: ...") from exc
                if state["first"]:
                    state["first"] = False
                    # early exit is safe only if every target ran exactly once per forward
                    state["early"] = all(state["calls"][j] == 1 for j in range(n_target))
                    full_calls = state["module_calls"]
                    for h in count_handles:
                        h.remove()
                report.batches += 1
                bar.advance(task)
        for j in range(n_target):
            fold(j)
        if report.batches == 0:
            raise ValueError("recalibrate_bn(): data yielded no batches; nothing to compute "
                             "statistics from (model unchanged)")
        if distributed:
            status_sent = True
            if not _all_ok(True, process_group):
                raise RecalibrationError("recalibrate_bn(): another rank failed; every rank "
                                         "left its model unchanged")
            final, final_batches = _gather_moments(moments, seen_batches, process_group)
        else:
            final, final_batches = moments, seen_batches
        # validate before writing anything
        for (name, m), mo in zip(targets, final):
            if mo.count == 0:
                continue
            if mo.count < 2:
                raise ValueError(f"recalibrate_bn(): layer {name!r} saw a single value per "
                                 "channel; the variance needs at least two (model unchanged)")
            if not (torch.isfinite(mo.mean).all() and torch.isfinite(mo.m2).all()):
                raise ValueError(f"recalibrate_bn(): non-finite (NaN/inf) statistics in layer "
                                 f"{name!r}, the first one in model order; check the inputs "
                                 "and the weights before it (model unchanged)")
    except BaseException:
        put_back()
        if distributed and not status_sent:  # let the other ranks fail instead of waiting
            try:
                _all_ok(False, process_group)
            except Exception:  # pragma: no cover - best effort
                pass
        raise
    put_back()

    # --- write the exact statistics (the only change the caller sees)
    with torch.no_grad():
        for (name, m), mo, nb in zip(targets, final, final_batches):
            if mo.count == 0:
                report.unreached.append(name)
                continue
            old_mean = m.running_mean.detach().to(torch.float64)
            old_var = m.running_var.detach().to(torch.float64)
            new_var = mo.var(unbiased=True).to(old_var.device)
            new_mean = mo.mean.to(old_mean.device)
            m.running_mean.copy_(new_mean)
            m.running_var.copy_(new_var)
            if m.num_batches_tracked is not None:
                m.num_batches_tracked.add_(nb)
            mean_shift = ((new_mean - old_mean).abs() / torch.sqrt(old_var + m.eps)).max().item()
            var_shift = ((new_var - old_var).abs() / old_var.clamp_min(1e-12)).max().item()
            report.layers.append(LayerRecalibration(name, mo.count, nb, mean_shift, var_shift))
    report.layers.sort(key=lambda r: max(r.mean_shift, r.var_shift), reverse=True)
    report.seconds = time.perf_counter() - start
    if report.early_exit_batches and state["stop_at"] is not None and full_calls:
        share = 1 - state["stop_at"] / full_calls
        report.skipped_fraction = share * report.early_exit_batches / report.batches
    if report.skipped_fraction != report.skipped_fraction or math.isinf(report.skipped_fraction):
        report.skipped_fraction = 0.0
    return report
