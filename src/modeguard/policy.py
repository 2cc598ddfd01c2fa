"""Sticky mode policies: a BatchNorm freeze or a pinned mode that ``model.train()`` cannot undo.

``model.apply(set_bn_eval)`` freezes BatchNorm only until the next ``model.train()``,
which recurses into every child and switches the layers back. A policy installed
here lives on the module itself, so it is honoured by ``train()``/``eval()`` on any
ancestor, by modeguard's contexts, by ``recalibrate_bn`` and by the watcher, and it
travels with the module through ``copy.deepcopy``, ``torch.save``/``torch.load``,
``torch.compile`` and ``DistributedDataParallel``. It adds no parameter or buffer:
``state_dict()`` is unchanged.

>>> import torch.nn as nn
>>> from modeguard import freeze_bn, pin_mode, pinned
>>> model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.Dropout(0.2))
>>> _ = freeze_bn(model)
>>> _ = model.train()
>>> model[1].training, model[2].training
(False, True)
>>> _ = pin_mode(model, "train", types=nn.Dropout)   # Monte-Carlo dropout
>>> _ = model.eval()
>>> pinned(model)
{'1': 'eval', '2': 'train'}

How it works: the module's class is swapped for a cached subclass (same name,
same behaviour) whose ``train(mode)`` applies the pinned mode instead of the
requested one. Removing the last policy swaps the original class back.
"""

from __future__ import annotations

import warnings
from typing import Any, Iterable, Literal

from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.parameter import UninitializedParameter

__all__ = ["freeze_bn", "unfreeze_bn", "pin_mode", "unpin", "pinned", "pin_of", "is_frozen",
           "is_policy_class"]

Mode = Literal["train", "eval"]

_PIN = "_modeguard_pin"          # "train" | "eval" on a pinned module
_REQUESTED = "_modeguard_requested"  # last mode an ancestor's train() asked for
_FROZEN = "_modeguard_frozen"    # freeze record on a frozen BatchNorm
_PIN_SOURCE = "_modeguard_pin_source"  # "pin_mode" | "freeze_bn"


class _Sticky:
    """Mixin placed in front of a module's own class while a policy is installed."""

    _modeguard_base: type

    def train(self, mode: bool = True):  # type: ignore[no-untyped-def]
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        d = self.__dict__
        pin = d.get(_PIN)
        if pin is None:
            return super().train(mode)  # type: ignore[misc]
        d[_REQUESTED] = mode
        return super().train(pin == "train")  # type: ignore[misc]

    def __reduce_ex__(self, protocol: Any):  # type: ignore[no-untyped-def]
        # Pickle (torch.save) and deepcopy rebuild the instance from the original
        # class, so nothing refers to the dynamically made subclass by name.
        state = self.__getstate__() if hasattr(self, "__getstate__") else self.__dict__
        return (_rebuild, (type(self)._modeguard_base,), state)


_CLASSES: dict[type, type] = {}


def _policy_class(cls: type) -> type:
    if issubclass(cls, _Sticky):
        return cls
    sub = _CLASSES.get(cls)
    if sub is None:
        sub = type(cls.__name__, (_Sticky, cls), {
            "__module__": cls.__module__,
            "__qualname__": cls.__qualname__,
            "__doc__": cls.__doc__,
            "_modeguard_base": cls,
        })
        _CLASSES[cls] = sub
    return sub


def _rebuild(base: type) -> nn.Module:
    cls = _policy_class(base)
    return cls.__new__(cls)


def is_policy_class(cls: type) -> bool:
    """Whether ``cls`` is modeguard's stand-in class for a module carrying a policy."""
    return isinstance(cls, type) and issubclass(cls, _Sticky)


def _install(module: nn.Module, pin: Mode, source: str) -> None:
    if not isinstance(module, _Sticky):
        module.__class__ = _policy_class(type(module))
    module.__dict__[_PIN] = pin
    module.__dict__[_PIN_SOURCE] = source
    module.__dict__.setdefault(_REQUESTED, module.training)
    # apply now, recursing into children as train() would (the class's own train() runs)
    type(module)._modeguard_base.train(module, pin == "train")


def _uninstall(module: nn.Module) -> bool:
    """Remove the pin; returns the mode the module should now have."""
    d = module.__dict__
    requested = d.pop(_REQUESTED, module.training)
    d.pop(_PIN, None)
    d.pop(_PIN_SOURCE, None)
    if isinstance(module, _Sticky):
        module.__class__ = type(module)._modeguard_base
    return bool(requested)


def pin_of(module: nn.Module) -> Mode | None:
    """The mode ``module`` is pinned to (by :func:`pin_mode` or :func:`freeze_bn`), or ``None``."""
    return module.__dict__.get(_PIN)


def is_frozen(module: nn.Module) -> bool:
    """Whether ``module`` is a BatchNorm layer frozen by :func:`freeze_bn`."""
    return _FROZEN in module.__dict__


def _check_module(module: Any, func: str) -> nn.Module:
    if not isinstance(module, nn.Module):
        raise TypeError(f"{func}() expects a torch.nn.Module, got {type(module).__name__}; "
                        "pass the model (or the submodule) itself")
    return module


def _check_mode(mode: Any) -> Mode:
    if mode in ("train", True):
        return "train"
    if mode in ("eval", False):
        return "eval"
    raise ValueError(f"invalid mode {mode!r}: use 'train' or 'eval'")


def _check_types(types: Any) -> tuple[type, ...] | None:
    if types is None:
        return None
    tup = (types,) if isinstance(types, type) else tuple(types)
    bad = [t for t in tup if not (isinstance(t, type) and issubclass(t, nn.Module))]
    if not tup or bad:
        raise TypeError(f"types must be nn.Module subclasses (e.g. nn.Dropout), got {types!r}")
    return tup


def _names(module: nn.Module) -> dict[int, str]:
    return {id(m): (n or type(m).__name__) for n, m in module.named_modules()}


# --------------------------------------------------------------------- freeze_bn


def freeze_bn(module: nn.Module, *, affine: bool = True) -> nn.Module:
    """Freeze every BatchNorm layer under ``module`` for good.

    Each frozen layer normalizes with its running statistics and never updates
    them, whatever mode its ancestors are put in later (``model.train()`` included).
    With ``affine=True`` its ``weight`` and ``bias`` also get ``requires_grad=False``.
    Layers already frozen are left as they are; BatchNorm layers without running
    statistics (``track_running_stats=False``) cannot be frozen and are skipped with
    a warning. Undo with :func:`unfreeze_bn`. Returns ``module``.

    >>> import torch.nn as nn
    >>> net = freeze_bn(nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4)))
    >>> net.train()[1].training, net[1].weight.requires_grad
    (False, False)
    """
    _check_module(module, "freeze_bn")
    if not isinstance(affine, bool):
        raise TypeError(f"affine must be True or False, got {affine!r}")
    names = _names(module)
    bns = [m for m in module.modules() if isinstance(m, _BatchNorm)]
    if not bns:
        raise ValueError(f"freeze_bn(): {type(module).__name__} contains no BatchNorm layer "
                         "(LayerNorm/GroupNorm have no running statistics and need no freeze)")
    lazy = [names[id(m)] for m in bns
            if isinstance(m.weight, UninitializedParameter)
            or isinstance(getattr(m, "running_mean", None), nn.parameter.UninitializedBuffer)]
    if lazy:
        raise ValueError(f"freeze_bn(): lazy BatchNorm layer(s) {', '.join(lazy)} are not "
                         "initialised yet; run one forward pass first, then freeze")
    for m in bns:
        if pin_of(m) == "train" and not is_frozen(m):
            raise ValueError(f"freeze_bn(): {names[id(m)]} is pinned to 'train' by pin_mode(); "
                             "unpin() it first")
    untracked = [names[id(m)] for m in bns if m.running_mean is None and not is_frozen(m)]
    if untracked:
        warnings.warn(f"freeze_bn(): skipping {', '.join(untracked)}: track_running_stats=False "
                      "means there are no running statistics to freeze with", stacklevel=2)
    for m in bns:
        if is_frozen(m) or m.running_mean is None:
            continue
        record = {
            "prev_pin": (pin_of(m), m.__dict__.get(_PIN_SOURCE)),
            "requires_grad": {},
        }
        if affine:
            for pname in ("weight", "bias"):
                p = getattr(m, pname)
                if p is not None:
                    record["requires_grad"][pname] = p.requires_grad
                    p.requires_grad_(False)
        m.__dict__[_FROZEN] = record
        _install(m, "eval", "freeze_bn")
    return module


def unfreeze_bn(module: nn.Module) -> nn.Module:
    """Undo :func:`freeze_bn` on every frozen BatchNorm under ``module``.

    ``requires_grad`` of weight and bias is restored to what it was before the
    freeze, and each layer takes the mode its ancestors last asked for (or the mode
    it had when frozen, if no ``train()``/``eval()`` reached it since).
    """
    _check_module(module, "unfreeze_bn")
    frozen = [m for m in module.modules() if is_frozen(m)]
    if not frozen:
        raise ValueError(f"unfreeze_bn(): no BatchNorm under {type(module).__name__} was frozen "
                         "by freeze_bn(); nothing to undo")
    for m in frozen:
        record = m.__dict__.pop(_FROZEN)
        for pname, flag in record["requires_grad"].items():
            getattr(m, pname).requires_grad_(flag)
        requested = _uninstall(m)
        prev_pin, prev_source = record["prev_pin"]
        if prev_pin is not None:  # it was pinned by pin_mode() before the freeze: keep that
            m.__dict__[_REQUESTED] = requested
            _install(m, prev_pin, prev_source)
        else:
            m.train(requested)
    return module


# --------------------------------------------------------------------- pin_mode


def pin_mode(module: nn.Module, mode: Mode, *, types: type | Iterable[type] | None = None
             ) -> nn.Module:
    """Pin ``module`` (or, with ``types``, each submodule of those types) to ``"train"`` or ``"eval"``.

    A pinned module keeps its mode through ``train()``/``eval()`` on any ancestor
    and through modeguard's contexts; a pinned module's own children follow the
    pinned mode unless they carry a pin of their own. Typical uses: Monte-Carlo
    dropout (``pin_mode(model, "train", types=nn.Dropout)``) and a frozen feature
    extractor (``pin_mode(model.backbone, "eval")``). Undo with :func:`unpin`.

    >>> import torch.nn as nn
    >>> net = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
    >>> _ = pin_mode(net, "train", types=nn.Dropout)
    >>> net.eval()[1].training
    True
    """
    _check_module(module, "pin_mode")
    pin = _check_mode(mode)
    tup = _check_types(types)
    targets = [module] if tup is None else [m for m in module.modules() if isinstance(m, tup)]
    if not targets:
        names = ", ".join(t.__name__ for t in tup or ())
        raise ValueError(f"pin_mode(): no submodule of type {names} under "
                         f"{type(module).__name__}; nothing to pin")
    names = _names(module)
    conflicts = [names[id(m)] for m in targets if is_frozen(m) and pin == "train"]
    if conflicts:
        raise ValueError(f"pin_mode(): {', '.join(conflicts)} frozen by freeze_bn() cannot be "
                         "pinned to 'train'; call unfreeze_bn() first")
    for m in targets:
        if is_frozen(m):
            continue  # already held in eval by the freeze
        _install(m, pin, "pin_mode")
    return module


def unpin(module: nn.Module) -> nn.Module:
    """Remove every pin set by :func:`pin_mode` on ``module`` and its submodules.

    Each module takes the mode its ancestors last asked for. BatchNorm freezes
    made by :func:`freeze_bn` are not touched (use :func:`unfreeze_bn`).
    """
    _check_module(module, "unpin")
    targets = [m for m in module.modules()
               if pin_of(m) is not None and m.__dict__.get(_PIN_SOURCE) == "pin_mode"]
    if not targets:
        raise ValueError(f"unpin(): nothing under {type(module).__name__} is pinned by "
                         "pin_mode() (frozen BatchNorm layers are undone by unfreeze_bn())")
    # parents first, so that a child's restored mode is not overwritten by its parent
    for m in targets:
        mode = _uninstall(m)
        m.train(mode)
    return module


def pinned(model: nn.Module) -> dict[str, Mode]:
    """Every pinned or frozen module under ``model``, by qualified name, with its mode.

    The root module itself is listed under ``""``.
    """
    _check_module(model, "pinned")
    return {name: pin for name, m in model.named_modules()
            if (pin := pin_of(m)) is not None}


def _requested_mode(module: nn.Module) -> bool | None:
    """The mode the last ``train()`` call asked a pinned module for (internal)."""
    return module.__dict__.get(_REQUESTED)

