"""Snapshot and restore every submodule's mode; ``eval_mode``, ``train_mode`` and ``inference``.

``model.eval()`` followed by ``model.train()`` is not a restore: it switches every
child to training mode, including the ones that were deliberately in eval mode
(a frozen backbone, BatchNorm layers put in eval by hand). These contexts put
each module back to exactly the flag it had, on normal exit, on exceptions and on
KeyboardInterrupt.

>>> import torch, torch.nn as nn
>>> from modeguard import eval_mode, inference, snapshot, restore
>>> model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
>>> model[1].eval()          # a child deliberately in eval mode
Dropout(p=0.5, inplace=False)
>>> with eval_mode(model):
...     _ = model(torch.ones(1, 4))
>>> model.training, model[1].training     # exactly as before
(True, False)
>>> with inference(model):
...     torch.is_grad_enabled(), model.training
(False, False)
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Literal, TypeVar

import torch
from torch import nn

__all__ = ["ModeState", "snapshot", "restore", "eval_mode", "train_mode", "inference",
           "active_depth"]

F = TypeVar("F", bound=Callable[..., Any])

_local = threading.local()


def active_depth() -> int:
    """How many modeguard mode contexts are open in this thread (0 when none).

    The watcher uses it: forwards inside modeguard's own contexts are never mode bugs.
    """
    return getattr(_local, "depth", 0)


# one re-entrant lock per model: a mode context holds its models for its whole duration, so a
# context in another thread cannot restore them under it (the same thread may nest freely)
_model_locks: "weakref.WeakKeyDictionary[nn.Module, threading.RLock]" = weakref.WeakKeyDictionary()
_model_locks_guard = threading.Lock()


def _hold(models: tuple[nn.Module, ...], stack: contextlib.ExitStack) -> None:
    """Acquire the models' locks (in a fixed order, so that two contexts over overlapping
    models cannot deadlock); the stack releases them."""
    with _model_locks_guard:
        locks = []
        for m in sorted(set(models), key=id):
            lock = _model_locks.get(m)
            if lock is None:
                lock = _model_locks[m] = threading.RLock()
            locks.append(lock)
    for lock in locks:
        lock.acquire()
        stack.callback(lock.release)


@contextlib.contextmanager
def _counted() -> Iterator[None]:
    _local.depth = active_depth() + 1
    try:
        yield
    finally:
        _local.depth -= 1


@dataclass(frozen=True)
class ModeState:
    """The ``training`` flag of every distinct module of one or more models.

    A module shared in several places appears once. Produced by :func:`snapshot`,
    consumed by :func:`restore`.
    """

    roots: tuple[int, ...]
    flags: tuple[tuple[nn.Module, bool], ...]

    def __len__(self) -> int:
        return len(self.flags)

    def as_dict(self, model: nn.Module) -> dict[str, bool]:
        """``{qualified name: training}`` for the modules of ``model`` (for display)."""
        by_id = {id(m): flag for m, flag in self.flags}
        return {name: by_id[id(m)] for name, m in model.named_modules() if id(m) in by_id}

    def __repr__(self) -> str:
        n_train = sum(flag for _, flag in self.flags)
        return f"ModeState({len(self.flags)} modules: {n_train} train, " \
               f"{len(self.flags) - n_train} eval)"


def _check_models(models: tuple[Any, ...], func: str) -> tuple[nn.Module, ...]:
    if not models:
        raise TypeError(f"{func}() needs at least one model: {func}(model) or {func}(a, b)")
    for i, m in enumerate(models):
        if not isinstance(m, nn.Module):
            raise TypeError(f"{func}() expects torch.nn.Module arguments; argument {i} is "
                            f"{type(m).__name__}. Pass the model itself (for DDP or compiled "
                            "models the wrapper works too)")
    return models


def snapshot(*models: nn.Module) -> ModeState:
    """Record the ``training`` flag of every submodule of ``models``.

    >>> import torch.nn as nn
    >>> net = nn.Sequential(nn.Dropout(), nn.BatchNorm1d(3))
    >>> state = snapshot(net)
    >>> _ = net.eval()
    >>> restore(net, state)
    >>> net[0].training
    True
    """
    models = _check_models(models, "snapshot")
    seen: set[int] = set()
    flags: list[tuple[nn.Module, bool]] = []
    for model in models:
        for m in model.modules():
            if id(m) not in seen:
                seen.add(id(m))
                flags.append((m, m.training))
    return ModeState(tuple(id(m) for m in models), tuple(flags))


def restore(model: nn.Module | tuple[nn.Module, ...], state: ModeState) -> None:
    """Set every module recorded in ``state`` back to its recorded flag.

    Flags are written directly (no ``train()`` call), so the result is exact even
    for modules whose ``train()`` is overridden. ``model`` must be the model (or
    tuple of models) the state was taken from.
    """
    models = model if isinstance(model, tuple) else (model,)
    _check_models(models, "restore")
    if not isinstance(state, ModeState):
        raise TypeError(f"restore() expects a ModeState from snapshot(), got "
                        f"{type(state).__name__}")
    if tuple(id(m) for m in models) != state.roots:
        raise ValueError("restore(): this state was taken from a different model; pass the "
                         "same model(s) given to snapshot()")
    for m, flag in state.flags:
        if m.training is not flag:
            m.training = flag


class _ModeContext(contextlib.ContextDecorator):
    """Set a mode on enter, restore every flag on exit. Re-entrant, usable as a decorator."""

    def __init__(self, models: tuple[nn.Module, ...], mode: bool, func: str,
                 grad: str | None = None) -> None:
        self._models = _check_models(models, func)
        self._mode = mode
        self._grad = grad
        self._stack: list[tuple[ModeState, contextlib.ExitStack]] = []

    def _recreate_cm(self) -> "_ModeContext":  # each decorated call gets its own state
        return type(self).__new__(type(self))._copy_from(self)

    def _copy_from(self, other: "_ModeContext") -> "_ModeContext":
        self._models, self._mode, self._grad = other._models, other._mode, other._grad
        self._stack = []
        return self

    def __enter__(self) -> "_ModeContext":
        stack = contextlib.ExitStack()
        try:
            _hold(self._models, stack)
        except BaseException:
            stack.close()
            raise
        try:
            state = snapshot(*self._models)
        except BaseException:
            stack.close()
            raise
        stack.enter_context(_counted())
        try:
            if self._grad == "inference_mode":
                stack.enter_context(torch.inference_mode())
            elif self._grad == "no_grad":
                stack.enter_context(torch.no_grad())
            for m in self._models:
                m.train(self._mode)  # honours overridden train() and sticky policies
        except BaseException:
            restore(self._models, state)
            stack.close()
            raise
        self._stack.append((state, stack))
        return self

    def __exit__(self, *exc: Any) -> Literal[False]:
        state, stack = self._stack.pop()
        try:
            restore(self._models, state)
        finally:
            stack.close()
        return False


def eval_mode(*models: nn.Module) -> contextlib.ContextDecorator:
    """Put ``models`` in eval mode; on exit restore every submodule's previous flag.

    Works as a context manager and as a decorator, nests, and restores on
    exceptions and KeyboardInterrupt. Sticky policies win: a module pinned to
    ``"train"`` stays in training mode. It does not switch autograd off; use
    :func:`inference` for evaluation. A context holds its models until it exits:
    a context on the same models in another thread waits for it (the modes are
    the models' own, shared by every thread), so for threaded serving put the
    model in eval mode once instead.
    """
    return _ModeContext(models, False, "eval_mode")


def train_mode(*models: nn.Module) -> contextlib.ContextDecorator:
    """Put ``models`` in training mode; on exit restore every submodule's previous flag.

    BatchNorm layers frozen with :func:`~modeguard.freeze_bn` and modules pinned
    to ``"eval"`` stay in eval mode inside.
    """
    return _ModeContext(models, True, "train_mode")


def inference(*models: nn.Module,
              grad: Literal["inference_mode", "no_grad"] = "inference_mode"
              ) -> contextlib.ContextDecorator:
    """Evaluation done right: :func:`eval_mode` plus autograd off, both restored on exit.

    ``grad="inference_mode"`` (default) uses ``torch.inference_mode()``, the
    fastest; tensors made inside cannot be used in autograd later. Use
    ``grad="no_grad"`` when they must be.

    >>> import torch, torch.nn as nn
    >>> net = nn.Sequential(nn.Linear(2, 2), nn.Dropout())
    >>> @inference(net)
    ... def predict(x):
    ...     return net(x)
    >>> predict(torch.ones(1, 2)).requires_grad, net.training
    (False, True)
    """
    if grad not in ("inference_mode", "no_grad"):
        raise ValueError(f"inference(grad={grad!r}): use 'inference_mode' (default) or "
                         "'no_grad'")
    return _ModeContext(models, False, "inference", grad=grad)
