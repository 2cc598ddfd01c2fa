"""FrozenBatchNorm1d/2d/3d and convert_frozen_bn / revert_frozen_bn against real BatchNorm."""

from __future__ import annotations

import copy

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import modeguard as mg
from modeguard.norm import FrozenBatchNorm1d, FrozenBatchNorm2d, FrozenBatchNorm3d

CASES = [(nn.BatchNorm1d, FrozenBatchNorm1d, (6, 5)), (nn.BatchNorm1d, FrozenBatchNorm1d, (6, 5, 7)),
         (nn.BatchNorm2d, FrozenBatchNorm2d, (4, 5, 3, 3)),
         (nn.BatchNorm3d, FrozenBatchNorm3d, (2, 5, 2, 3, 3))]


def randomized(bn: nn.modules.batchnorm._BatchNorm, seed: int,
               extreme: bool = False) -> nn.modules.batchnorm._BatchNorm:
    """Trained-looking statistics; ``extreme`` gives tiny variances and large means."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        if extreme:
            bn.running_mean.copy_(torch.randn(bn.num_features, generator=g) * 10)
            bn.running_var.copy_(torch.rand(bn.num_features, generator=g) * 4 + 0.001)
        else:
            bn.running_mean.copy_(torch.rand(bn.num_features, generator=g) * 4 - 2)
            bn.running_var.copy_(torch.rand(bn.num_features, generator=g) * 3.75 + 0.25)
        bn.num_batches_tracked.fill_(17)
        if bn.affine:
            bn.weight.copy_(torch.randn(bn.num_features, generator=g))
            bn.bias.copy_(torch.randn(bn.num_features, generator=g))
    return bn.eval()


@settings(max_examples=200, deadline=None)
@given(case=st.integers(0, len(CASES) - 1), seed=st.integers(0, 10_000),
       eps=st.sampled_from([1e-5, 1e-3, 0.1]), affine=st.booleans())
def test_output_equals_eval_mode_batchnorm(case: int, seed: int, eps: float, affine: bool) -> None:
    bn_cls, frozen_cls, shape = CASES[case]
    bn = randomized(bn_cls(5, eps=eps, affine=affine), seed)
    frozen = mg.convert_frozen_bn(copy.deepcopy(bn))
    assert type(frozen) is frozen_cls
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(seed)) * 2 \
        + bn.running_mean.reshape((1, -1) + (1,) * (len(shape) - 2))
    # within 1e-6 absolute, or 1e-6 relative for outputs beyond 1 (a couple of float32 ulps)
    torch.testing.assert_close(frozen(x), bn(x), rtol=1e-6, atol=1e-6)
    frozen.train()  # mode changes nothing
    torch.testing.assert_close(frozen(x), bn(x), rtol=1e-6, atol=1e-6)


@settings(max_examples=100, deadline=None)
@given(case=st.integers(0, len(CASES) - 1), seed=st.integers(0, 10_000))
def test_extreme_statistics_match_float64_truth(case: int, seed: int) -> None:
    """Tiny variances, large means: we centre before scaling, so no cancellation."""
    bn_cls, _, shape = CASES[case]
    bn = randomized(bn_cls(5), seed, extreme=True)
    frozen = mg.convert_frozen_bn(copy.deepcopy(bn))
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(seed)) * 5
    truth = copy.deepcopy(bn).double()(x.double())
    torch.testing.assert_close(frozen(x).double(), truth, rtol=1e-6, atol=1e-5)


def test_buffers_only_and_state_dict_roundtrips_strict() -> None:
    bn = randomized(nn.BatchNorm2d(5), 1)
    frozen = FrozenBatchNorm2d(5)
    assert list(frozen.parameters()) == []
    frozen.load_state_dict(bn.state_dict(), strict=True)
    assert int(frozen.num_batches_tracked) == 17
    back = nn.BatchNorm2d(5)
    back.load_state_dict(frozen.state_dict(), strict=True)
    for k, v in bn.state_dict().items():
        assert torch.equal(v, back.state_dict()[k]), k
    assert set(frozen.state_dict()) == set(bn.state_dict())


def test_loads_affine_false_state_dict() -> None:
    bn = randomized(nn.BatchNorm1d(5, affine=False), 2)
    frozen = FrozenBatchNorm1d(5)
    frozen.load_state_dict(bn.state_dict(), strict=True)
    x = torch.randn(8, 5)
    torch.testing.assert_close(frozen(x), bn(x), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64])
def test_output_dtype_follows_input(dtype: torch.dtype) -> None:
    frozen = mg.convert_frozen_bn(randomized(nn.BatchNorm2d(5), 3))
    x = torch.randn(2, 5, 4, 4)
    out = frozen(x.to(dtype))
    assert out.dtype == dtype
    torch.testing.assert_close(out.float(), frozen(x), rtol=2e-2, atol=2e-2)
    half_model = mg.convert_frozen_bn(randomized(nn.BatchNorm2d(5), 3)).half()
    assert half_model(x.half()).dtype == torch.float16


def test_convert_nested_model_keeps_sharing_device_and_reverts() -> None:
    shared = randomized(nn.BatchNorm2d(4), 4)
    model = nn.Sequential(nn.Conv2d(3, 4, 1), shared, nn.Sequential(shared, nn.ReLU()),
                          nn.Flatten(), nn.Linear(4 * 9, 3), randomized(nn.BatchNorm1d(3), 5))
    model.eval()
    x = torch.randn(2, 3, 3, 3)
    ref = model(x)
    mg.convert_frozen_bn(model)
    assert model[1] is model[2][0] and isinstance(model[1], FrozenBatchNorm2d)
    assert isinstance(model[5], FrozenBatchNorm1d)
    torch.testing.assert_close(model(x), ref, rtol=0, atol=1e-6)
    mg.revert_frozen_bn(model)
    assert type(model[1]) is nn.BatchNorm2d and model[1] is model[2][0]
    assert model[1].momentum == 0.1
    torch.testing.assert_close(model.eval()(x), ref, rtol=0, atol=1e-6)


def test_revert_restores_class_momentum_affine_requires_grad() -> None:
    bn = randomized(nn.BatchNorm1d(5, momentum=None, affine=False), 6)
    back = mg.revert_frozen_bn(mg.convert_frozen_bn(bn))
    assert type(back) is nn.BatchNorm1d and back.momentum is None and not back.affine
    sync = randomized(nn.SyncBatchNorm(5), 7)
    sync.weight.requires_grad_(False)
    frozen = mg.convert_frozen_bn(sync)
    assert frozen(torch.randn(2, 5, 3, 3, 3)).shape == (2, 5, 3, 3, 3)  # any rank, like Sync
    back = mg.revert_frozen_bn(frozen)
    assert type(back) is nn.SyncBatchNorm and not back.weight.requires_grad


def test_lazy_bn_converted_once_initialised() -> None:
    model = nn.Sequential(nn.LazyBatchNorm1d())
    with pytest.raises(ValueError, match="not initialised"):
        mg.convert_frozen_bn(model)
    model(torch.randn(4, 3))
    model.eval()
    x = torch.randn(4, 3)
    ref = model(x)
    mg.convert_frozen_bn(model)
    torch.testing.assert_close(model(x), ref, rtol=0, atol=1e-6)
    assert type(mg.revert_frozen_bn(model)[0]) is nn.BatchNorm1d


def test_errors_leave_model_unchanged() -> None:
    model = nn.Sequential(nn.BatchNorm2d(3), nn.BatchNorm2d(3, track_running_stats=False))
    with pytest.raises(ValueError, match="track_running_stats=False"):
        mg.convert_frozen_bn(model)
    assert type(model[0]) is nn.BatchNorm2d
    with pytest.raises(TypeError, match="torch.nn.Module"):
        mg.convert_frozen_bn("model")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no BatchNorm"):
        mg.convert_frozen_bn(nn.Linear(2, 2))
    with pytest.raises(ValueError, match="no FrozenBatchNorm"):
        mg.revert_frozen_bn(nn.Linear(2, 2))
    frozen = FrozenBatchNorm2d(3)
    with pytest.raises(ValueError, match="expects 4D input"):
        frozen(torch.randn(2, 3))
    with pytest.raises(ValueError, match="channels"):
        frozen(torch.randn(2, 4, 2, 2))
    with pytest.raises(ValueError, match="positive int"):
        FrozenBatchNorm1d(0)


def test_frozen_layer_survives_training_loop_and_save() -> None:
    import io
    model = nn.Sequential(nn.Conv2d(3, 4, 3), randomized(nn.BatchNorm2d(4), 8), nn.Flatten(),
                          nn.Linear(4 * 4 * 4, 2))
    mg.convert_frozen_bn(model)
    before = model[1].running_mean.clone()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(3):
        model.train()
        model(torch.randn(4, 3, 6, 6)).sum().backward()
        opt.step()
    assert torch.equal(model[1].running_mean, before)
    buf = io.BytesIO()
    torch.save(model, buf)
    buf.seek(0)
    loaded = torch.load(buf, weights_only=False)
    assert isinstance(loaded[1], FrozenBatchNorm2d)
    assert type(mg.revert_frozen_bn(loaded)[1]) is nn.BatchNorm2d
