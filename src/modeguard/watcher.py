"""Catch mode bugs while the program runs: :func:`watch`.

While a :class:`Watcher` is active it observes mode changes (``train()`` / ``eval()``
calls, with the line that made them), forward passes of mode-sensitive modules,
backward passes and optimizer steps, and turns what it sees into findings of the
shared catalog:

- **MG101** an optimizer step whose backward went through mode-sensitive modules
  in eval mode, with the line of the ``eval()`` that put them there;
- **MG102** forward passes in training mode with autograd off (validation or
  inference in training mode), with the number of BatchNorm statistic updates;
- **MG301** BatchNorm layers frozen with ``eval()``, switched back by a ``train()``
  on an ancestor, whose running statistics then changed;
- **MG304** BatchNorm in training mode on tiny batches;
- **MG401** (info) evaluation forwards in eval mode with autograd on and no backward.

Modules held by modeguard's policies (``freeze_bn``, ``pin_mode``) and everything
run inside modeguard's own contexts never produce findings.

>>> import torch, torch.nn as nn
>>> from modeguard import watch
>>> model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5), nn.Linear(4, 1))
>>> with watch(model) as w:
...     with torch.no_grad():
...         _ = model(torch.randn(2, 4))     # "validation" while still in training mode
>>> [f.code for f in w.findings]
['MG102']
"""

from __future__ import annotations

import os
import sys
import threading
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.modules.dropout import _DropoutNd
from torch.nn.modules.instancenorm import _InstanceNorm

from modeguard.findings import Finding, Location, Severity, resolve_codes
from modeguard.modes import active_depth
from modeguard.policy import _PIN as _PIN_ATTR
from modeguard.policy import pin_of

__all__ = ["watch", "Watcher", "ModeBugError"]


class ModeBugError(RuntimeError):
    """Raised by a strict watcher at the first finding; ``.finding`` holds it."""

    def __init__(self, finding: Finding) -> None:
        super().__init__(finding.format() + (f"\n  hint: {finding.hint}" if finding.hint else ""))
        self.finding = finding


# ------------------------------------------------------------------ call sites

_SKIP_DIRS = tuple(str(Path(p).resolve()) + os.sep for p in (
    os.path.dirname(torch.__file__), os.path.dirname(__file__)))
_POLICY = Location("<modeguard policy>", 0)


def _user_frame(depth: Any = 2, outside_forward: bool = False) -> Location | None:
    """The innermost frame outside torch and modeguard: where the user's code is.

    ``depth`` is a stack depth or a frame to start from. ``outside_forward`` also
    skips the ``forward`` methods of modules, so that the site of a forward pass is
    the line that called the model, not a line inside it.
    """
    f = sys._getframe(depth) if isinstance(depth, int) else depth
    while f is not None:
        fn = f.f_code.co_filename
        if not fn.startswith(_SKIP_DIRS) and not fn.startswith("<frozen"):
            name = f.f_code.co_name
            skip = ("forward",) if outside_forward else ("train", "eval")
            if not (name in skip and isinstance(f.f_locals.get("self"), nn.Module)):
                return Location(_display(fn), f.f_lineno)
        f = f.f_back
    return None


def _from_modeguard(frame: Any) -> bool:
    """Whether the nearest frame outside torch belongs to modeguard (its contexts, policies)."""
    here = _SKIP_DIRS[1]
    f = frame
    while f is not None:
        fn = f.f_code.co_filename
        if fn.startswith(here) and not fn.endswith(("watcher.py", "runner.py")):
            return True
        if not fn.startswith(_SKIP_DIRS):
            return False
        f = f.f_back
    return False


_RECALIBRATION = frozenset({"update_bn", "update_bn_stats", "recalibrate_bn",
                            "update_bn_stats_hook"})


def _in_recalibration(frame: Any) -> bool:
    """Whether a BatchNorm recalibration (torch's update_bn, fvcore's update_bn_stats, ...)
    is on the stack: those run training-mode forwards without autograd deliberately."""
    f = frame
    while f is not None:
        if f.f_code.co_name in _RECALIBRATION:
            return True
        f = f.f_back
    return False


_CWD = os.getcwd()


def _display(path: str) -> str:
    try:
        rel = os.path.relpath(path, _CWD)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel


# ------------------------------------------------------------------ module kinds


def _kind(module: nn.Module) -> str | None:
    if isinstance(module, _BatchNorm):
        return "bn" if module.track_running_stats else "bn-batchstats"
    if isinstance(module, _DropoutNd):
        return "dropout" if module.p > 0 else None
    if isinstance(module, _InstanceNorm):
        return "norm" if module.track_running_stats else None
    if isinstance(module, nn.RNNBase):
        return "rnn" if module.dropout > 0 and module.num_layers > 1 else None
    if isinstance(module, nn.MultiheadAttention):
        return "attention" if module.dropout > 0 else None
    return None


_UNSET = object()


class _ThreadState(threading.local):
    depth = 0
    frame: Any = None
    site: Any = _UNSET
    target: Any = None
    mode = True


_CANDIDATES = (_BatchNorm, _DropoutNd, _InstanceNorm, nn.RNNBase, nn.MultiheadAttention)
_ALL = object()


@dataclass
class _Pool:
    """Eval-mode forwards with autograd on, waiting to learn whether a step follows."""

    count: int = 0
    backpropagated: bool = False
    names: tuple[str, ...] = ()


class Watcher:
    """Observes the program for mode bugs; see :func:`watch`."""

    _active: "Watcher | None" = None
    _lock = threading.Lock()

    def __init__(self, model: nn.Module | None = None, *, strict: bool = False,
                 select: Iterable[str] | None = None, ignore: Iterable[str] | None = None,
                 min_batch: int = 8) -> None:
        if model is not None and not isinstance(model, nn.Module):
            raise TypeError(f"watch() expects a torch.nn.Module or None, got "
                            f"{type(model).__name__}")
        if not isinstance(min_batch, int) or min_batch < 2:
            raise ValueError(f"min_batch must be an int >= 2, got {min_batch!r}")
        self.model = model
        self.strict = strict
        self.min_batch = min_batch
        self.codes = resolve_codes(list(select) if select else None,
                                   list(ignore) if ignore else None, detector="watch")
        self._findings: dict[tuple, Finding] = {}
        self._candidates: dict[type, bool] = {}
        self._tracked: dict[int, weakref.ref] = {}
        self._hooks: dict[int, Any] = {}
        self._refs: list[weakref.ref] = []
        self._calls = 0
        self._wrapper: Any = None
        self._sites: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._freezes: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._undone: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._names: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._pool: dict[Location | None, _Pool] = {}
        self._tls = _ThreadState()
        self._handles: list[Any] = []
        self._originals: dict[str, Any] = {}
        self.running = False

    # ------------------------------------------------------------ lifecycle

    def start(self) -> "Watcher":
        with Watcher._lock:
            if Watcher._active is not None:
                raise RuntimeError("another watch() is already active; stop it first")
            Watcher._active = self
        self._patch()
        self.running = True
        return self

    def stop(self) -> "Watcher":
        if not self.running:
            return self
        try:
            self._flush_pool(_ALL)
        finally:
            self._unpatch()
            self.running = False
            with Watcher._lock:
                Watcher._active = None
        return self

    def __enter__(self) -> "Watcher":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        if exc[0] is not None and issubclass(exc[0], ModeBugError):
            self._unpatch_quietly()
            return
        self.stop()

    def _unpatch_quietly(self) -> None:
        self._unpatch()
        self.running = False
        with Watcher._lock:
            Watcher._active = None

    # ------------------------------------------------------------ results

    @property
    def findings(self) -> list[Finding]:
        """Deduplicated findings so far, most frequent first within each code."""
        return sorted(self._findings.values(), key=lambda f: (f.code, -f.count))

    def summary(self) -> str:
        """Plain-text summary: one line per finding, with counts and related sites."""
        if not self._findings:
            return "modeguard watch: no mode bugs seen"
        lines = [f"modeguard watch: {len(self._findings)} finding(s)"]
        for f in self.findings:
            times = f" (x{f.count})" if f.count > 1 else ""
            lines.append(f"{f.format()}{times}")
            for loc in f.related:
                lines.append(f"    {loc.note}: {loc.path}:{loc.line}")
            if f.hint:
                lines.append(f"    hint: {f.hint}")
        return "\n".join(lines)

    def table(self) -> Any:
        """A rich table of the findings."""
        from rich.table import Table

        table = Table(title="modeguard watch", title_justify="left")
        for col in ("code", "where", "count", "what", "related"):
            table.add_column(col, overflow="fold")
        for f in self.findings:
            table.add_row(f.code, f"{f.path}:{f.line}" if f.path else "", str(f.count),
                          f.message, "\n".join(f"{r.note}: {r.path}:{r.line}" for r in f.related))
        return table

    def to_dict(self) -> dict[str, Any]:
        return {"findings": [f.to_dict() for f in self.findings]}

    def _report(self, code: str, message: str, where: Location | None, key: tuple,
                hint: str = "", related: tuple[Location, ...] = (), count: int = 1,
                severity: Severity | None = None, extra: dict | None = None) -> None:
        if code not in self.codes:
            return
        full = (code, *key)
        existing = self._findings.get(full)
        if existing is not None:
            existing.count += count
            if extra:
                for k, v in extra.items():
                    existing.extra[k] = existing.extra.get(k, 0) + v
            return
        finding = Finding(code, message, path=where.path if where else None,
                          line=where.line if where else None, hint=hint, related=related,
                          count=count, detector="watch", severity=severity,
                          extra=dict(extra or {}))
        self._findings[full] = finding
        if self.strict:
            raise ModeBugError(finding)

    # ------------------------------------------------------------ patches and hooks

    def _patch(self) -> None:
        watcher = self
        orig_train = nn.Module.train
        orig_backward = torch.Tensor.backward
        self._originals = {"train": orig_train, "backward": orig_backward}

        def train(module: nn.Module, mode: bool = True) -> nn.Module:
            return watcher._on_train(orig_train, module, mode)

        self._wrapper = train

        def backward(tensor: torch.Tensor, *args: Any, **kwargs: Any) -> Any:
            out = orig_backward(tensor, *args, **kwargs)
            watcher._on_backward()
            return out

        train.__doc__ = orig_train.__doc__
        nn.Module.train = train  # type: ignore[method-assign]
        torch.Tensor.backward = backward  # type: ignore[method-assign]
        from torch.optim.optimizer import register_optimizer_step_pre_hook
        self._handles.append(register_optimizer_step_pre_hook(self._on_step))
        if self.model is None:
            # Every module: the mode-sensitive ones that exist now, and each one registered
            # as a submodule from now on, get a forward pre-hook of their own. (A global
            # forward hook would do too, but it puts every module call of the program on
            # torch's slow path.)
            import gc

            from torch.nn.modules.module import register_module_module_registration_hook

            for obj in gc.get_objects():
                if issubclass(type(obj), nn.Module) and self._kind_of(obj) is not None:
                    self._track(obj)

            def registered(parent: nn.Module, name: str, sub: Any) -> None:
                if isinstance(sub, nn.Module) and self._kind_of(sub) is not None:
                    self._track(sub)
            self._handles.append(register_module_module_registration_hook(registered))
        else:
            for name, m in self.model.named_modules():
                if self._kind_of(m) is not None:
                    self._names[m] = name or type(m).__name__
                    self._track(m)

    def _unpatch(self) -> None:
        for h in [*self._handles, *self._hooks.values()]:
            h.remove()
        self._handles.clear()
        self._hooks.clear()
        self._tracked.clear()
        self._refs = []
        if self._originals:
            nn.Module.train = self._originals["train"]  # type: ignore[method-assign]
            torch.Tensor.backward = self._originals["backward"]  # type: ignore[method-assign]
            self._originals = {}

    def _kind_of(self, module: nn.Module) -> str | None:
        cls = type(module)
        candidate = self._candidates.get(cls)
        if candidate is None:  # one issubclass per class, then a dict lookup per forward
            candidate = self._candidates[cls] = issubclass(cls, _CANDIDATES)
        return _kind(module) if candidate else None

    def _name(self, module: nn.Module) -> str:
        name = self._names.get(module)
        if name is None:
            name = type(module).__name__
            if self.model is not None:
                for n, m in self.model.named_modules():
                    if m is module:
                        name = n or name
                        break
            self._names[module] = name
        return name

    # --- mode changes

    def _on_train(self, orig: Any, module: nn.Module, mode: bool) -> nn.Module:
        # Only the outermost train()/eval() does any work (nested calls into children go
        # straight to the original). The mode-sensitive modules that could change are
        # compared before and after, and the calling line is looked up only if one of them
        # actually changed.
        tls = self._tls
        if tls.depth:
            return orig(module, mode)
        candidates = [m for r in self._refs if (m := r()) is not None and m.training is not mode]
        if len(self._refs) != len(self._tracked) or self._dead_refs():
            self._tracked_modules()
        tls.depth = 1
        tls.frame = sys._getframe(2)
        tls.site = _UNSET
        tls.target = module
        try:
            return orig(module, mode)
        finally:
            try:
                for m in candidates:
                    if m.training is mode:
                        self._changed(m, _PIN_ATTR in m.__dict__)
            finally:
                tls.depth = 0
                tls.frame = None  # do not keep frames alive

    def _track(self, module: nn.Module) -> None:
        key = id(module)
        if key not in self._tracked:
            ref = weakref.ref(module)
            self._tracked[key] = ref
            self._refs.append(ref)
            self._hooks[key] = module.register_forward_pre_hook(self._on_forward)

    def _dead_refs(self) -> bool:
        self._calls += 1
        return self._calls % 256 == 0  # now and then, drop modules that no longer exist

    def _tracked_modules(self) -> list[nn.Module]:
        live = []
        dead = []
        for key, ref in self._tracked.items():
            m = ref()
            if m is None:
                dead.append(key)
            else:
                live.append(m)
        for key in dead:
            del self._tracked[key]
            self._hooks.pop(key, None)
        self._refs = list(self._tracked.values())
        return live

    def _site(self) -> Location | None:
        tls = self._tls
        if tls.site is _UNSET:
            frame = tls.frame
            tls.site = _POLICY if frame is None or _from_modeguard(frame) else _user_frame(frame)
        return tls.site

    def _changed(self, module: nn.Module, by_policy: bool) -> None:
        kind = self._kind_of(module)
        if kind is None:
            return
        site = _POLICY if by_policy else self._site()
        previous = self._sites.get(module)
        self._sites[module] = site
        target = self._tls.target
        if module.training:
            # switched (back) to training: pooled eval forwards of theirs were evaluation
            self._flush_pool(previous)
            freeze = self._freezes.get(module)
            if freeze is not None and target is not freeze[1] and site is not _POLICY:
                self._undone[module] = (freeze[0], site)
        elif kind == "bn" and site is not _POLICY and site is not None:
            # eval() reached this layer: a hand-made freeze if a later train() on another
            # (ancestor) module switches it back; eval()/train() on the same module is an
            # ordinary evaluation
            self._freezes[module] = (site, target)
            self._undone.pop(module, None)

    # --- forwards

    def _held(self, module: nn.Module) -> bool:
        return pin_of(module) is not None or self._sites.get(module) is _POLICY

    def _on_forward(self, module: nn.Module, args: tuple) -> None:
        kind = self._kind_of(module)
        if kind is None or active_depth():
            return
        grad = torch.is_grad_enabled()
        if module.training:
            if kind == "bn":
                self._check_bn_train(module, args)
            if not grad and not self._held(module):
                self._mg102(module, kind)
        elif grad and not self._held(module):
            x = args[0] if args and isinstance(args[0], torch.Tensor) else None
            weight = getattr(module, "weight", None)
            if (x is not None and x.requires_grad) or \
                    (isinstance(weight, torch.Tensor) and weight.requires_grad):
                site = self._sites.get(module)
                pool = self._pool.get(site)
                if pool is None:
                    pool = self._pool[site] = _Pool(names=(self._name(module),))
                elif len(pool.names) < 4 and self._name(module) not in pool.names:
                    pool.names = pool.names + (self._name(module),)
                pool.count += 1

    def _check_bn_train(self, module: nn.Module, args: tuple) -> None:
        x = args[0] if args and isinstance(args[0], torch.Tensor) else None
        if x is None or self._held(module):
            return
        undone = self._undone.pop(module, None)
        if undone is not None:
            freeze_site, undo_site = undone
            related = (Location(undo_site.path, undo_site.line, 0, "switched back by train() at")
                       if undo_site else None,)
            self._report(
                "MG301",
                f"BatchNorm '{self._name(module)}' was frozen with eval() here, but a later "
                "train() on an ancestor switched it back: its running statistics are updating "
                "again",
                freeze_site, ("freeze", freeze_site),
                hint="use modeguard.freeze_bn(...) (survives model.train()), or re-freeze after "
                     "every model.train()",
                related=tuple(r for r in related if r is not None))
        per_channel = x.numel() // x.shape[1] if x.dim() >= 2 and x.shape[1] else 0
        batch = x.shape[0] if x.dim() >= 1 else 0
        if per_channel == 1 or batch < self.min_batch:
            where = _user_frame(3, outside_forward=True)
            if per_channel == 1:
                msg = (f"BatchNorm '{self._name(module)}' in training mode got one value per "
                       f"channel (input {tuple(x.shape)}): torch raises, statistics are undefined")
            else:
                msg = (f"BatchNorm '{self._name(module)}' in training mode on a batch of {batch} "
                       f"(< {self.min_batch}): batch statistics are noisy and the running "
                       "statistics follow them")
            self._report("MG304", msg, where, (where, per_channel == 1),
                         hint="use larger batches (drop_last=True), freeze_bn(), or GroupNorm "
                              "/ SyncBatchNorm for small per-device batches")

    def _mg102(self, module: nn.Module, kind: str) -> None:
        if _in_recalibration(sys._getframe(2)):
            return  # update_bn / PreciseBN: training mode without autograd on purpose
        where = _user_frame(3, outside_forward=True)
        site = self._sites.get(module)
        related = (Location(site.path, site.line, 0, "training mode set at"),) \
            if site is not None and site is not _POLICY else ()
        updates = 1 if kind == "bn" else 0
        self._report(
            "MG102",
            "forward pass with autograd off while mode-sensitive modules are in training "
            f"mode (e.g. {kind} '{self._name(module)}'): validation or inference in training "
            "mode" + ("" if related else " (training mode since construction or before "
                                         "watching started)"),
            where, (where,), related=related,
            hint="call model.eval() first (and model.train() after), or use "
                 "modeguard.inference(model)",
            extra={"bn_stat_updates": updates})

    # --- backward and step

    def _on_backward(self) -> None:
        for pool in self._pool.values():
            pool.backpropagated = True

    def _on_step(self, optimizer: Any, args: Any, kwargs: Any) -> None:
        if active_depth():
            return
        step_site = None
        for site, pool in list(self._pool.items()):
            if not pool.backpropagated:
                continue
            if step_site is None:
                step_site = _user_frame(3)
            where = site if site is not None else step_site
            related = []
            if step_site is not None:
                related.append(Location(step_site.path, step_site.line, 0, "optimizer step at"))
            how = ("put in eval mode here and not switched back" if site is not None else
                   "in eval mode since before watching started")
            self._report(
                "MG101",
                f"training step with mode-sensitive modules in eval mode "
                f"({', '.join(repr(n) for n in pool.names)}): {how}",
                where, (site, step_site if site is None else None),
                hint="call model.train() at the top of every training step, or restore the "
                     "previous mode after evaluation (modeguard.inference / eval_mode)",
                related=tuple(related), count=1)
            del self._pool[site]

    def _flush_pool(self, site: Any) -> None:
        """Pooled eval-mode forwards that no step used: evaluation with autograd on (MG401).

        ``site`` selects the pool of one ``eval()`` site; ``_ALL`` flushes every pool.
        """
        for key, pool in list(self._pool.items()):
            if site is not _ALL and key != site:
                continue
            if not pool.backpropagated:
                self._report(
                    "MG401",
                    f"{pool.count} evaluation forward(s) in eval mode with autograd enabled and "
                    f"no backward ({', '.join(repr(n) for n in pool.names)}): the graphs were "
                    "kept for nothing",
                    key, ("eval", key), count=pool.count,
                    hint="wrap evaluation in torch.no_grad() / torch.inference_mode(), or use "
                         "modeguard.inference(model)")
            del self._pool[key]


def watch(model: nn.Module | None = None, *, strict: bool = False,
          select: Iterable[str] | None = None, ignore: Iterable[str] | None = None,
          min_batch: int = 8) -> Watcher:
    """Watch the program for mode bugs; a context manager (or call ``start()``/``stop()``).

    Args:
        model: watch this model's mode-sensitive modules; ``None`` watches every
            mode-sensitive module that exists when watching starts or is registered as a
            submodule while it runs (a standalone layer created while watching and never
            put inside another module is not seen).
        strict: raise :class:`ModeBugError` at the first finding (for tests and CI).
        select / ignore: rule codes or prefixes, as for the linter (``["MG1"]``).
        min_batch: BatchNorm training batches smaller than this are reported (MG304).

    Findings are deduplicated per site with counts: ``watcher.findings``,
    ``watcher.summary()``, ``watcher.table()`` (rich), ``watcher.to_dict()``.
    """
    return Watcher(model, strict=strict, select=select, ignore=ignore, min_batch=min_batch)
