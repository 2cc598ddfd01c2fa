"""Frozen BatchNorm layers and the conversion to and from them.

A frozen BatchNorm is an affine map per channel computed from fixed statistics:
``y = (x - running_mean) / sqrt(running_var + eps) * weight + bias``. It holds
buffers only (no parameters, nothing to train, nothing a ``model.train()`` can
switch), keeps the output in the input's dtype, and loads a regular BatchNorm
``state_dict`` -- ``num_batches_tracked`` included -- with ``strict=True``.

Use it to ship a model whose BatchNorm layers must never change, or to train a
detector head on a frozen backbone. To freeze layers *in place* while keeping
the ability to unfreeze them later, :func:`modeguard.freeze_bn` is often simpler.

>>> import torch, torch.nn as nn
>>> from modeguard import convert_frozen_bn, revert_frozen_bn
>>> model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4)).eval()
>>> x = torch.randn(2, 3, 8, 8)
>>> ref = model(x)
>>> model = convert_frozen_bn(model)
>>> model[1]
FrozenBatchNorm2d(4, eps=1e-05)
>>> torch.allclose(model(x), ref, atol=1e-6)
True
>>> type(revert_frozen_bn(model)[1]).__name__
'BatchNorm2d'
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.parameter import UninitializedBuffer, UninitializedParameter

__all__ = ["FrozenBatchNorm1d", "FrozenBatchNorm2d", "FrozenBatchNorm3d", "convert_frozen_bn",
           "revert_frozen_bn"]


class _FrozenBatchNorm(nn.Module):
    """BatchNorm with fixed statistics and affine terms, stored as buffers."""

    _input_dims: tuple[int, ...] = ()
    _regular: type[_BatchNorm] = nn.BatchNorm2d

    def __init__(self, num_features: int, eps: float = 1e-5, *, device: Any = None,
                 dtype: torch.dtype | None = None) -> None:
        super().__init__()
        if not isinstance(num_features, int) or num_features <= 0:
            raise ValueError(f"num_features must be a positive int, got {num_features!r}")
        kw = {"device": device, "dtype": dtype}
        self.num_features = num_features
        self.eps = float(eps)
        self.register_buffer("weight", torch.ones(num_features, **kw))
        self.register_buffer("bias", torch.zeros(num_features, **kw))
        self.register_buffer("running_mean", torch.zeros(num_features, **kw))
        self.register_buffer("running_var", torch.ones(num_features, **kw))
        self.register_buffer("num_batches_tracked",
                             torch.tensor(0, dtype=torch.long, device=device))
        # what revert_frozen_bn() needs to rebuild the original layer (not in the state_dict)
        self._origin: dict[str, Any] = {"momentum": 0.1, "affine": True}

    def _check_input_dim(self, x: torch.Tensor) -> None:
        if x.dim() not in self._input_dims:
            dims = " or ".join(f"{d}D" for d in self._input_dims)
            raise ValueError(f"{type(self).__name__} expects {dims} input "
                             f"(got {x.dim()}D input of shape {tuple(x.shape)})")
        if x.shape[1] != self.num_features:
            raise ValueError(f"{type(self).__name__}({self.num_features}) got "
                             f"{x.shape[1]} channels in input of shape {tuple(x.shape)}")

    def scale_shift(self, dtype: torch.dtype | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-channel ``scale`` and ``shift`` with ``y = x * scale + shift`` (for fusing)."""
        scale = self.weight / torch.sqrt(self.running_var + self.eps)
        shift = self.bias - self.running_mean * scale
        if dtype is not None:
            scale, shift = scale.to(dtype), shift.to(dtype)
        return scale, shift

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check_input_dim(x)
        shape = (1, -1) + (1,) * (x.dim() - 2)
        scale = (self.weight / torch.sqrt(self.running_var + self.eps)).to(x.dtype)
        # centre first: no cancellation between a large x*scale and a large shift
        return torch.addcmul(self.bias.to(x.dtype).reshape(shape),
                             x - self.running_mean.to(x.dtype).reshape(shape),
                             scale.reshape(shape))

    def _load_from_state_dict(self, state_dict: dict, prefix: str, *args: Any,
                              **kwargs: Any) -> None:
        # a state_dict from a BatchNorm built with affine=False has no weight/bias:
        # identity affine terms are the exact equivalent
        for name, fill in (("weight", 1.0), ("bias", 0.0)):
            if prefix + name not in state_dict and prefix + "running_mean" in state_dict:
                state_dict[prefix + name] = torch.full_like(
                    state_dict[prefix + "running_mean"], fill)
        if prefix + "num_batches_tracked" not in state_dict:
            state_dict[prefix + "num_batches_tracked"] = torch.tensor(0, dtype=torch.long)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}"


class FrozenBatchNorm1d(_FrozenBatchNorm):
    """Frozen counterpart of :class:`torch.nn.BatchNorm1d` (input ``(N, C)`` or ``(N, C, L)``)."""

    _input_dims = (2, 3)
    _regular = nn.BatchNorm1d


class FrozenBatchNorm2d(_FrozenBatchNorm):
    """Frozen counterpart of :class:`torch.nn.BatchNorm2d` (input ``(N, C, H, W)``)."""

    _input_dims = (4,)
    _regular = nn.BatchNorm2d


class FrozenBatchNorm3d(_FrozenBatchNorm):
    """Frozen counterpart of :class:`torch.nn.BatchNorm3d` (input ``(N, C, D, H, W)``)."""

    _input_dims = (5,)
    _regular = nn.BatchNorm3d


class _FrozenBatchNormNd(_FrozenBatchNorm):
    """Frozen counterpart of layers that take any rank (``SyncBatchNorm``)."""

    _input_dims = (2, 3, 4, 5)
    _regular = nn.SyncBatchNorm


_FROZEN_FOR: dict[type, type[_FrozenBatchNorm]] = {
    nn.BatchNorm1d: FrozenBatchNorm1d, nn.LazyBatchNorm1d: FrozenBatchNorm1d,
    nn.BatchNorm2d: FrozenBatchNorm2d, nn.LazyBatchNorm2d: FrozenBatchNorm2d,
    nn.BatchNorm3d: FrozenBatchNorm3d, nn.LazyBatchNorm3d: FrozenBatchNorm3d,
}


def _frozen_class(bn: _BatchNorm) -> type[_FrozenBatchNorm]:
    for cls in type(bn).__mro__:
        if cls in _FROZEN_FOR:
            return _FROZEN_FOR[cls]
    return _FrozenBatchNormNd  # SyncBatchNorm: any input rank, as the original


def _check_convertible(bn: _BatchNorm, name: str) -> None:
    if isinstance(bn.weight, UninitializedParameter) or \
            isinstance(bn.running_mean, UninitializedBuffer):
        raise ValueError(f"convert_frozen_bn(): lazy BatchNorm {name!r} is not initialised "
                         "yet; run one forward pass first")
    if bn.running_mean is None or bn.running_var is None:
        raise ValueError(f"convert_frozen_bn(): {name!r} has track_running_stats=False, so "
                         "there are no statistics to freeze with; remove it from the "
                         "conversion or train it with running statistics")


def _to_frozen(bn: _BatchNorm) -> _FrozenBatchNorm:
    assert bn.running_mean is not None and bn.running_var is not None
    cls = _frozen_class(bn)
    frozen = cls(bn.num_features, bn.eps, device=bn.running_mean.device,
                 dtype=bn.running_mean.dtype)
    with torch.no_grad():
        if bn.affine:
            frozen.weight.copy_(bn.weight.detach())
            frozen.bias.copy_(bn.bias.detach())
        frozen.running_mean.copy_(bn.running_mean)
        frozen.running_var.copy_(bn.running_var)
        if bn.num_batches_tracked is not None:
            frozen.num_batches_tracked.copy_(bn.num_batches_tracked)
    frozen._origin = {"momentum": bn.momentum, "affine": bn.affine, "cls": type(bn),
                      "requires_grad": bn.weight.requires_grad if bn.affine else True}
    return frozen


def _to_regular(frozen: _FrozenBatchNorm) -> _BatchNorm:
    origin = frozen._origin
    cls = origin.get("cls", frozen._regular)
    if cls in (nn.LazyBatchNorm1d, nn.LazyBatchNorm2d, nn.LazyBatchNorm3d) \
            or not issubclass(cls, _BatchNorm):
        cls = frozen._regular
    affine = origin.get("affine", True)
    bn = cls(frozen.num_features, eps=frozen.eps, momentum=origin.get("momentum", 0.1),
             affine=affine, track_running_stats=True, device=frozen.running_mean.device,
             dtype=frozen.running_mean.dtype)
    with torch.no_grad():
        if affine:
            bn.weight.copy_(frozen.weight)
            bn.bias.copy_(frozen.bias)
            bn.weight.requires_grad_(origin.get("requires_grad", True))
            bn.bias.requires_grad_(origin.get("requires_grad", True))
        bn.running_mean.copy_(frozen.running_mean)
        bn.running_var.copy_(frozen.running_var)
        bn.num_batches_tracked.copy_(frozen.num_batches_tracked)
    bn.train(frozen.training)
    return bn


def _replace(module: nn.Module, match: type, build: Any, func: str) -> nn.Module:
    if not isinstance(module, nn.Module):
        raise TypeError(f"{func}() expects a torch.nn.Module, got {type(module).__name__}")
    names = {id(m): (n or type(m).__name__) for n, m in module.named_modules()}
    targets = [m for m in module.modules() if isinstance(m, match)]
    if func == "convert_frozen_bn":
        for m in targets:  # validate everything before changing anything
            _check_convertible(m, names[id(m)])
    if not targets:
        raise ValueError(f"{func}(): {type(module).__name__} contains no "
                         f"{'BatchNorm' if func == 'convert_frozen_bn' else 'FrozenBatchNorm'} "
                         "layer")
    new: dict[int, nn.Module] = {id(m): build(m) for m in targets}  # shared layers stay shared
    if id(module) in new:
        return new[id(module)]
    for parent in module.modules():
        for child_name, child in list(parent._modules.items()):
            if child is not None and id(child) in new:
                parent._modules[child_name] = new[id(child)]
    return module


def convert_frozen_bn(module: nn.Module) -> nn.Module:
    """Replace every BatchNorm layer under ``module`` by a ``FrozenBatchNorm1d/2d/3d``.

    Statistics, affine terms, ``eps`` and ``num_batches_tracked`` are copied; device
    and dtype are kept; a layer shared in several places stays shared. Returns
    ``module`` (or the new layer when ``module`` itself is a BatchNorm). Layers
    with ``track_running_stats=False`` and uninitialised lazy layers are errors,
    raised before anything is changed. Undo with :func:`revert_frozen_bn`.
    """
    return _replace(module, _BatchNorm, _to_frozen, "convert_frozen_bn")


def revert_frozen_bn(module: nn.Module) -> nn.Module:
    """Replace every frozen layer under ``module`` by a regular BatchNorm with the same state.

    Layers made by :func:`convert_frozen_bn` come back as the class they were
    (``SyncBatchNorm`` included; lazy ones as their concrete class), with their
    ``momentum``, ``affine`` and ``requires_grad``; frozen layers built directly
    become ``nn.BatchNorm1d/2d/3d`` with ``affine=True`` and momentum 0.1.
    """
    return _replace(module, _FrozenBatchNorm, _to_regular, "revert_frozen_bn")
