"""Sticky policies: freeze_bn / pin_mode survive train(), copies, saving, compile and mixed precision."""

from __future__ import annotations

import copy
import io
import warnings

import pytest
import torch
from torch import nn

import modeguard as mg
from helpers import RecordingTrain
from modeguard.policy import is_frozen, pin_of


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                                      nn.Conv2d(8, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU())
        self.drop = nn.Dropout(0.3)
        self.head = nn.Linear(8, 4)
        self.head_bn = nn.BatchNorm1d(4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x).mean((2, 3))
        return self.head_bn(self.head(self.drop(x)))


def bns(model: nn.Module) -> list[nn.modules.batchnorm._BatchNorm]:
    return [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]


def warmed(seed: int = 0) -> Net:
    torch.manual_seed(seed)
    model = Net()
    with torch.no_grad():
        for _ in range(3):
            model(torch.randn(8, 3, 6, 6) * 2 + 1)
        for bn in bns(model):
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.uniform_(-0.5, 0.5)
    return model


def buffers(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in model.named_buffers()}


def full_state(model: nn.Module) -> tuple:
    return ({id(m): m.training for m in model.modules()},
            {n: p.requires_grad for n, p in model.named_parameters()},
            {id(m): type(m) for m in model.modules()}, mg.pinned(model))


# ------------------------------------------------------------------ behaviour


def test_freeze_survives_train_and_sets_requires_grad() -> None:
    model = warmed()
    assert mg.freeze_bn(model) is model
    model.train()
    for bn in bns(model):
        assert not bn.training and is_frozen(bn) and pin_of(bn) == "eval"
        assert not bn.weight.requires_grad and not bn.bias.requires_grad
    assert model.drop.training and model.features[0].weight.requires_grad
    model.eval().train()
    assert all(not bn.training for bn in bns(model))


def test_freeze_without_affine_keeps_requires_grad() -> None:
    model = warmed()
    mg.freeze_bn(model, affine=False)
    assert all(bn.weight.requires_grad for bn in bns(model))
    assert all(not bn.train().training for bn in bns(model))


def test_frozen_stats_bitwise_unchanged_after_optimizer_steps() -> None:
    model = warmed()
    mg.freeze_bn(model.features)
    frozen_before = buffers(model.features)
    head_before = model.head_bn.running_mean.clone()
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1,
                          momentum=0.9)
    for step in range(5):
        model.train()  # what every training loop does, each step
        opt.zero_grad()
        loss = model(torch.randn(8, 3, 6, 6) * (step + 1)).pow(2).mean()
        loss.backward()
        opt.step()
    after = buffers(model.features)
    for k, v in frozen_before.items():
        assert torch.equal(v, after[k]), k
    assert not torch.equal(head_before, model.head_bn.running_mean)  # unfrozen one still learns


def test_frozen_output_equals_eval_mode_bn() -> None:
    model = warmed()
    ref = copy.deepcopy(model).eval()
    mg.freeze_bn(model)
    model.train()
    model.drop.eval()
    x = torch.randn(4, 3, 6, 6)
    torch.testing.assert_close(model(x), ref(x), rtol=0, atol=0)


def test_state_dict_identical_and_loadable_both_ways() -> None:
    plain = warmed()
    frozen = mg.freeze_bn(copy.deepcopy(plain))
    a, b = plain.state_dict(), frozen.state_dict()
    assert list(a) == list(b)
    assert all(torch.equal(a[k], b[k]) for k in a)
    other = warmed(seed=1)
    mg.freeze_bn(other)
    other.load_state_dict(plain.state_dict(), strict=True)  # plain -> frozen
    assert all(torch.equal(v, other.state_dict()[k]) for k, v in a.items())
    assert all(is_frozen(bn) for bn in bns(other))
    fresh = Net()
    fresh.load_state_dict(frozen.state_dict(), strict=True)  # frozen -> plain
    assert all(torch.equal(v, fresh.state_dict()[k]) for k, v in a.items())


def test_policy_survives_deepcopy() -> None:
    model = mg.freeze_bn(warmed())
    mg.pin_mode(model, "train", types=nn.Dropout)
    clone = copy.deepcopy(model)
    clone.train()
    assert all(not bn.training and not bn.weight.requires_grad for bn in bns(clone))
    clone.eval()
    assert clone.drop.training
    assert mg.pinned(clone) == mg.pinned(model)
    assert type(clone.features[1]).__name__ == "BatchNorm2d"


def test_policy_survives_torch_save_load_of_whole_module() -> None:
    model = mg.freeze_bn(warmed())
    mg.pin_mode(model.drop, "eval")
    buf = io.BytesIO()
    torch.save(model, buf)
    buf.seek(0)
    loaded = torch.load(buf, weights_only=False)
    loaded.train()
    assert all(not bn.training for bn in bns(loaded))
    assert not loaded.drop.training
    assert mg.pinned(loaded) == mg.pinned(model)
    mg.unfreeze_bn(loaded)  # the freeze record survived too
    assert all(bn.weight.requires_grad for bn in bns(loaded))


def _compile_check(backend: str) -> None:
    model = mg.freeze_bn(warmed())
    before = buffers(model)
    compiled = torch.compile(model, backend=backend)
    compiled.train()
    assert all(not bn.training for bn in bns(model))
    ref = copy.deepcopy(model)
    x = torch.randn(4, 3, 6, 6)
    model.drop.eval()  # deterministic comparison
    ref.drop.eval()
    out = compiled(x)
    out.sum().backward()
    after = buffers(model)
    assert all(torch.equal(before[k], after[k]) for k in before)
    torch.testing.assert_close(out, ref(x))


def test_policy_honoured_by_torch_compile_eager_backend() -> None:
    _compile_check("aot_eager")


@pytest.mark.slow
def test_policy_honoured_by_torch_compile_inductor() -> None:
    _compile_check("inductor")


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_training_with_half_precision_model(dtype: torch.dtype) -> None:
    model = mg.freeze_bn(warmed()).to(dtype)
    before = buffers(model)
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.01)
    for _ in range(2):
        model.train()
        out = model(torch.randn(4, 3, 6, 6, dtype=dtype))
        assert out.dtype == dtype
        out.float().pow(2).mean().backward()
        opt.step()
    after = buffers(model)
    assert all(torch.equal(before[k], after[k]) for k in before if "features" in k)


def test_training_with_bn_kept_in_float32_inside_half_model() -> None:
    model = warmed().to(torch.bfloat16)
    for bn in bns(model):
        bn.float()  # a common recipe: norm layers in float32
    mg.freeze_bn(model)
    model.train()
    out = model(torch.randn(4, 3, 6, 6, dtype=torch.bfloat16))
    out.float().sum().backward()
    assert out.dtype == torch.bfloat16


def test_training_under_cpu_autocast_bfloat16() -> None:
    model = mg.freeze_bn(warmed())
    before = buffers(model)
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.01)
    model.train()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = model(torch.randn(4, 3, 6, 6))
    out.float().mean().backward()
    opt.step()
    after = buffers(model)
    assert all(torch.equal(before[k], after[k]) for k in before if "features" in k)


def test_freeze_covers_syncbn_and_initialised_lazy_bn() -> None:
    model = nn.Sequential(nn.LazyBatchNorm1d(), nn.SyncBatchNorm(3), nn.BatchNorm3d(3))
    with pytest.raises(ValueError, match="not initialised"):
        mg.freeze_bn(model)
    assert mg.pinned(model) == {}  # nothing half-applied
    model[0](torch.randn(4, 3))
    mg.freeze_bn(model)
    model.train()
    assert all(not m.training for m in model)
    assert mg.pinned(model) == {"0": "eval", "1": "eval", "2": "eval"}


def test_freeze_skips_bn_without_running_stats_with_warning() -> None:
    model = nn.Sequential(nn.BatchNorm1d(3, track_running_stats=False), nn.BatchNorm1d(3))
    with pytest.warns(UserWarning, match="track_running_stats=False"):
        mg.freeze_bn(model)
    assert mg.pinned(model) == {"1": "eval"}


def test_freeze_is_idempotent_and_unfreeze_restores_exactly() -> None:
    model = warmed()
    model.features[1].weight.requires_grad_(False)  # user froze one gamma before
    model.eval()
    model.features[4].train()  # odd but deliberate
    before = full_state(model)
    mg.freeze_bn(model)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mg.freeze_bn(model)  # again: no change, no warning
    mg.unfreeze_bn(model)
    assert full_state(model) == before


def test_unfreeze_takes_the_mode_ancestors_asked_for() -> None:
    model = warmed().eval()
    mg.freeze_bn(model)
    model.train()  # while frozen, the model was switched to training
    mg.unfreeze_bn(model)
    assert all(bn.training for bn in bns(model))


def test_pin_mode_mc_dropout_and_unpin() -> None:
    model = warmed()
    mg.pin_mode(model, "train", types=nn.Dropout)
    model.eval()
    assert model.drop.training and not model.features[1].training
    with mg.inference(model):
        x = torch.randn(2, 3, 6, 6)
        assert not torch.equal(model(x), model(x))  # MC dropout samples differ
    assert mg.pinned(model) == {"drop": "train"}
    mg.unpin(model)
    assert mg.pinned(model) == {} and not model.drop.training  # takes the model's mode
    assert type(model.drop) is nn.Dropout


def test_pin_subtree_eval_children_follow() -> None:
    model = warmed()
    mg.pin_mode(model.features, "eval")
    model.train()
    assert all(not m.training for m in model.features.modules())
    assert model.drop.training
    mg.unpin(model.features)
    assert all(m.training for m in model.features.modules())


def test_pin_and_freeze_interplay() -> None:
    model = warmed()
    mg.freeze_bn(model)
    with pytest.raises(ValueError, match="unfreeze_bn"):
        mg.pin_mode(model.features[1], "train")
    mg.pin_mode(model, "eval", types=nn.BatchNorm2d)  # already held in eval: fine
    with pytest.raises(ValueError, match="pin_mode"):
        mg.unpin(model)  # nothing pinned by pin_mode
    mg.unfreeze_bn(model)
    mg.pin_mode(model.head_bn, "eval")
    mg.freeze_bn(model)
    mg.unfreeze_bn(model)
    assert pin_of(model.head_bn) == "eval"  # the earlier pin is back
    model.train()
    assert not model.head_bn.training


def test_overridden_train_still_runs_under_a_pin() -> None:
    model = nn.Sequential(RecordingTrain())
    calls = model[0].calls
    mg.pin_mode(model[0], "eval")
    calls.clear()
    model.train()
    assert calls == [False] and not model[0].drop.training
    assert isinstance(model[0], RecordingTrain)


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize("func", [mg.freeze_bn, mg.unfreeze_bn, mg.unpin, mg.pinned])
def test_non_module_argument(func) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(TypeError, match="torch.nn.Module"):
        func([nn.BatchNorm1d(2)])


def test_invalid_mode_and_types_change_nothing() -> None:
    model = warmed()
    before = full_state(model)
    with pytest.raises(ValueError, match="'train' or 'eval'"):
        mg.pin_mode(model, "inference")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="nn.Module subclasses"):
        mg.pin_mode(model, "eval", types=["Dropout"])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="no submodule of type"):
        mg.pin_mode(model, "eval", types=nn.LSTM)
    assert full_state(model) == before


def test_unfreeze_never_frozen_and_freeze_without_bn() -> None:
    model = warmed()
    before = full_state(model)
    with pytest.raises(ValueError, match="nothing to undo"):
        mg.unfreeze_bn(model)
    with pytest.raises(ValueError, match="no BatchNorm"):
        mg.freeze_bn(nn.Sequential(nn.Linear(2, 2), nn.LayerNorm(2)))
    with pytest.raises(TypeError, match="affine"):
        mg.freeze_bn(model, affine="yes")  # type: ignore[arg-type]
    assert full_state(model) == before


def test_train_with_non_bool_still_rejected_on_pinned_module() -> None:
    model = mg.freeze_bn(warmed())
    with pytest.raises(ValueError, match="boolean"):
        model.features[1].train("yes")  # type: ignore[arg-type]
