"""recalibrate_bn against float64 ground truth computed independently from each layer's inputs."""

from __future__ import annotations

import copy
import itertools

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import modeguard as mg
from modeguard.stats import Moments, RecalibrationError


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), nn.BatchNorm2d(6), nn.ReLU())
        self.block = nn.Sequential(nn.Conv2d(6, 6, 3, padding=1), nn.BatchNorm2d(6), nn.ReLU(),
                                   nn.Dropout(0.5))
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(6 * 4 * 4, 8), nn.BatchNorm1d(8),
                                  nn.Dropout(0.3), nn.Linear(8, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.block(self.stem(x)))


def bns(model: nn.Module) -> list[tuple[str, nn.Module]]:
    return [(n, m) for n, m in model.named_modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]


def ground_truth(model: nn.Module, batches: list[torch.Tensor]) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """Population mean / unbiased var of each BN layer's inputs, training-mode pass, dropout off."""
    ref = copy.deepcopy(model).train()
    for m in ref.modules():
        if isinstance(m, nn.Dropout):
            m.eval()
    inputs: dict[str, list[torch.Tensor]] = {n: [] for n, _ in bns(ref)}
    hooks = [m.register_forward_pre_hook(lambda mod, a, n=n: inputs[n].append(a[0].detach().double()))
             for n, m in bns(ref)]
    with torch.no_grad():
        for b in batches:
            ref(b)
    for h in hooks:
        h.remove()
    out = {}
    for n, xs in inputs.items():
        flat = torch.cat([x.transpose(0, 1).reshape(x.shape[1], -1) for x in xs], dim=1)
        out[n] = (flat.mean(1), flat.var(1, unbiased=True))
    return out


def max_rel_err(model: nn.Module, truth: dict) -> float:
    err = 0.0
    for n, m in bns(model):
        mean, var = truth[n]
        err = max(err, ((m.running_mean.double() - mean).abs() / (mean.abs() + 1e-3)).max().item(),
                  ((m.running_var.double() - var).abs() / var).max().item())
    return err


def state_of(model: nn.Module) -> tuple:
    return ({k: v.clone() for k, v in model.state_dict().items()},
            {id(m): m.training for m in model.modules()},
            [getattr(m, "momentum", None) for m in model.modules()])


def same(a: tuple, b: tuple) -> bool:
    return (a[0].keys() == b[0].keys() and all(torch.equal(a[0][k], b[0][k]) for k in a[0])
            and a[1] == b[1] and a[2] == b[2])


def make_batches(kind: str, seed: int = 0) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    if kind == "iid":
        return [torch.randn(16, 3, 4, 4, generator=g) * 2 + 1 for _ in range(6)]
    # ordered non-iid: per-batch offsets, ragged last batch
    sizes = [16] * 5 + [5]
    return [torch.randn(s, 3, 4, 4, generator=g) + 3.0 * i for i, s in enumerate(sizes)]


@pytest.mark.parametrize("kind", ["iid", "noniid"])
def test_exact_against_float64_ground_truth(kind: str) -> None:
    torch.manual_seed(0)
    model = Net()
    batches = make_batches(kind)
    truth = ground_truth(model, batches)
    report = mg.recalibrate_bn(model, batches, progress=False)
    assert max_rel_err(model, truth) < 1e-5
    assert report.batches == 6 and {r.name for r in report.layers} == {n for n, _ in bns(model)}
    assert sum(b.shape[0] for b in batches) * 16 == \
        [r for r in report.layers if r.name == "stem.1"][0].samples


def test_update_bn_is_far_off_on_noniid_batches() -> None:
    """The reason this function exists: equal-weight averaging of batch variances."""
    torch.manual_seed(0)
    model = Net()
    batches = make_batches("noniid")
    truth = ground_truth(model, batches)
    swa = copy.deepcopy(model)
    torch.optim.swa_utils.update_bn(batches, swa)
    mg.recalibrate_bn(model, batches, progress=False)
    assert max_rel_err(swa, truth) > 100 * max(max_rel_err(model, truth), 1e-7)


def test_order_and_batch_sizes_do_not_matter() -> None:
    """For a layer whose inputs do not depend on batching (the first BatchNorm), the result is
    the same for any order and batch sizes. Deeper layers see inputs normalized with batch
    statistics (training mode, as during training), which depend on the batching itself."""
    torch.manual_seed(1)
    model = Net()
    data = torch.cat(make_batches("noniid"))
    a, b = copy.deepcopy(model), copy.deepcopy(model)
    mg.recalibrate_bn(a, list(data.split(8)), progress=False)
    perm = torch.randperm(data.shape[0])
    mg.recalibrate_bn(b, list(data[perm].split(13)), progress=False)
    torch.testing.assert_close(a.stem[1].running_mean, b.stem[1].running_mean, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(a.stem[1].running_var, b.stem[1].running_var, rtol=1e-6, atol=1e-6)


@settings(max_examples=100, deadline=None)
@given(sizes=st.lists(st.integers(1, 9), min_size=1, max_size=6), offset=st.floats(-1e3, 1e3),
       seed=st.integers(0, 1000))
def test_moments_merge_matches_two_pass(sizes: list[int], offset: float, seed: int) -> None:
    g = torch.Generator().manual_seed(seed)
    parts = [torch.randn(s, 2, dtype=torch.float64, generator=g) + offset for s in sizes]
    merged = Moments.of(parts[0], 1)
    for p in parts[1:]:
        merged = merged.merge(Moments.of(p, 1))
    whole = torch.cat(parts)
    assert merged.count == whole.shape[0]
    torch.testing.assert_close(merged.mean, whole.mean(0))
    if whole.shape[0] > 1:
        torch.testing.assert_close(merged.var(), whole.var(0), rtol=1e-9, atol=1e-9)


def test_modes_momentum_and_other_buffers_restored() -> None:
    model = Net()
    model.head[2].momentum = None
    model.eval()
    model.block[3].train()  # odd but deliberate
    before = state_of(model)
    mg.recalibrate_bn(model, make_batches("iid"), progress=False)
    after = state_of(model)
    assert after[1] == before[1] and after[2] == before[2]
    changed = {k for k in before[0] if not torch.equal(before[0][k], after[0][k])}
    assert changed == {f"{n}.{b}" for n, _ in bns(model)
                       for b in ("running_mean", "running_var", "num_batches_tracked")}
    assert int(model.stem[1].num_batches_tracked) == 6


def test_frozen_and_pinned_layers_untouched_and_layers_selection() -> None:
    model = Net()
    mg.freeze_bn(model.stem)
    mg.pin_mode(model.head, "eval")
    frozen_before = {k: v.clone() for k, v in model.stem.state_dict().items()}
    head_before = {k: v.clone() for k, v in model.head.state_dict().items()}
    report = mg.recalibrate_bn(model, make_batches("iid"), progress=False)
    assert [r.name for r in report.layers] == ["block.1"]
    assert all(torch.equal(v, model.stem.state_dict()[k]) for k, v in frozen_before.items())
    assert all(torch.equal(v, model.head.state_dict()[k]) for k, v in head_before.items())
    assert not model.stem[1].training and mg.pinned(model)["stem.1"] == "eval"
    other = Net()
    before = other.stem[1].running_mean.clone()
    report = mg.recalibrate_bn(other, make_batches("iid"), layers=["block.1", other.head[2]],
                               progress=False)
    assert {r.name for r in report.layers} == {"block.1", "head.2"}
    assert torch.equal(other.stem[1].running_mean, before)


def test_dropout_eval_by_default_and_train_on_request() -> None:
    torch.manual_seed(0)
    model = Net()
    batches = make_batches("iid")
    a, b = copy.deepcopy(model), copy.deepcopy(model)
    mg.recalibrate_bn(a, batches, progress=False)
    mg.recalibrate_bn(b, batches, progress=False)
    torch.testing.assert_close(a.head[2].running_var, b.head[2].running_var)  # deterministic
    c = copy.deepcopy(model)
    mg.recalibrate_bn(c, batches, dropout="train", progress=False)
    assert not torch.allclose(a.head[2].running_var, c.head[2].running_var)
    assert c.block[3].training  # mode restored


def test_early_exit_skips_the_head_and_keeps_exactness() -> None:
    calls = []

    class HeavyHead(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.body = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4))
            self.head = nn.Linear(4, 2)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            h = self.body(x)
            calls.append(1)
            return self.head(h)

    model = HeavyHead()
    batches = [torch.randn(8, 4) + i for i in range(5)]
    truth = ground_truth(model, batches)
    calls.clear()
    report = mg.recalibrate_bn(model, batches, progress=False)
    assert len(calls) == 1  # only the first batch ran past the last BatchNorm
    assert report.early_exit_batches == 4 and report.skipped_fraction > 0
    assert max_rel_err(model, truth) < 1e-5


def test_dynamic_control_flow_and_shared_layer() -> None:
    class Branchy(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a = nn.BatchNorm1d(3)
            self.b = nn.BatchNorm1d(3)
            self.shared = nn.BatchNorm1d(3)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            y = self.a(x) if x.mean() > 0 else self.b(x)
            return self.shared(self.shared(y) + x)  # called twice: no early exit

    g = torch.Generator().manual_seed(0)
    batches = [torch.randn(8, 3, generator=g) + (2 if i % 2 else -2) for i in range(6)]
    model = Branchy()
    truth = ground_truth(model, batches)
    report = mg.recalibrate_bn(model, batches, progress=False)
    assert report.early_exit_batches == 0
    assert max_rel_err(model, truth) < 1e-5
    assert {r.name: r.batches for r in report.layers} == {"a": 3, "b": 3, "shared": 6}
    only_a = Branchy()
    r = mg.recalibrate_bn(only_a, [torch.randn(4, 3) + 5], progress=False)
    assert r.unreached == ["b"] and int(only_a.b.num_batches_tracked) == 0


def test_dict_batches_forward_device_and_num_batches() -> None:
    class DictModel(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bn = nn.BatchNorm1d(2)

        def forward(self, image: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
            return self.bn(image * scale)

    batches = [{"image": torch.randn(4, 2) + i, "label": torch.zeros(4)} for i in range(10)]
    model = DictModel()
    with pytest.raises(RecalibrationError, match="forward=") as info:
        mg.recalibrate_bn(model, batches, progress=False)
    assert isinstance(info.value.__cause__, TypeError)
    report = mg.recalibrate_bn(model, batches, forward=lambda m, b: m(b["image"], scale=2.0),
                               device="cpu", num_batches=3, progress=False)
    assert report.batches == 3
    expected = torch.cat([b["image"] * 2.0 for b in batches[:3]])
    torch.testing.assert_close(model.bn.running_mean, expected.mean(0))
    torch.testing.assert_close(model.bn.running_var, expected.var(0))


def test_generator_input_and_tuples() -> None:
    model = Net()
    gen = ((torch.randn(8, 3, 4, 4), torch.zeros(8)) for _ in range(3))
    assert mg.recalibrate_bn(model, gen, progress=True).batches == 3


class Boom(Exception):
    pass


@pytest.mark.parametrize("exc", [Boom, KeyboardInterrupt])
def test_atomic_on_error_mid_pass(exc: type[BaseException]) -> None:
    model = Net()
    model.eval()
    before = state_of(model)

    def data():  # noqa: ANN202
        yield torch.randn(8, 3, 4, 4)
        yield torch.randn(8, 3, 4, 4)
        raise exc("interrupted")

    with pytest.raises((exc, RecalibrationError)):
        mg.recalibrate_bn(model, data(), progress=False)
    assert same(state_of(model), before)
    assert all(not h for m in model.modules() for h in (m._forward_hooks, m._forward_pre_hooks))


def test_atomic_on_interrupt_from_inside_forward() -> None:
    model = Net()
    before = state_of(model)
    n = itertools.count()

    def forward(m: nn.Module, batch: torch.Tensor) -> torch.Tensor:
        if next(n) == 2:
            raise KeyboardInterrupt
        return m(batch)

    with pytest.raises(KeyboardInterrupt):
        mg.recalibrate_bn(model, make_batches("iid"), forward=forward, progress=False)
    assert same(state_of(model), before)


def test_nan_statistics_abort_naming_the_layer() -> None:
    model = Net()
    before = state_of(model)
    with torch.no_grad():
        model.stem[0].weight[0, 0, 0, 0] = float("nan")
    before = state_of(model)
    with pytest.raises(ValueError, match="'stem.1'"):
        mg.recalibrate_bn(model, make_batches("iid"), progress=False)
    after = state_of(model)
    assert after[1] == before[1]
    assert all(torch.equal(before[0][k], after[0][k]) or torch.isnan(before[0][k]).any()
               for k in before[0])


def test_bad_input() -> None:
    model = Net()
    before = state_of(model)
    with pytest.raises(ValueError, match="no batches"):
        mg.recalibrate_bn(model, [], progress=False)
    with pytest.raises(ValueError, match="no BatchNorm"):
        mg.recalibrate_bn(nn.Linear(2, 2), [torch.randn(2, 2)], progress=False)
    with pytest.raises(TypeError, match="iterable of batches"):
        mg.recalibrate_bn(model, torch.randn(4, 3, 4, 4), progress=False)
    with pytest.raises(TypeError, match="torch.nn.Module"):
        mg.recalibrate_bn("model", [], progress=False)  # type: ignore[arg-type]
    with pytest.raises(RecalibrationError, match="batch 0"):
        mg.recalibrate_bn(model, [torch.randn(4, 5)], progress=False)
    with pytest.raises(ValueError, match="no BatchNorm layer named 'nope'"):
        mg.recalibrate_bn(model, [torch.randn(4, 3, 4, 4)], layers=["nope"], progress=False)
    with pytest.raises(ValueError, match="dropout="):
        mg.recalibrate_bn(model, [torch.randn(4, 3, 4, 4)], dropout="off", progress=False)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="num_batches"):
        mg.recalibrate_bn(model, [torch.randn(4, 3, 4, 4)], num_batches=0, progress=False)
    frozen = mg.freeze_bn(Net())
    with pytest.raises(ValueError, match="frozen/pinned"):
        mg.recalibrate_bn(frozen, [torch.randn(4, 3, 4, 4)], progress=False)
    assert same(state_of(model), before)


def test_syncbatchnorm_and_swa_averaged_model_without_process_group() -> None:
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.SyncBatchNorm(4), nn.ReLU())
    batches = [torch.randn(4, 3, 6, 6) + i for i in range(3)]
    truth = ground_truth(model, batches)
    mg.recalibrate_bn(model, batches, progress=False)
    assert max_rel_err(model, truth) < 1e-5
    assert "forward" not in model[1].__dict__
    swa = torch.optim.swa_utils.AveragedModel(Net())
    report = mg.recalibrate_bn(swa, make_batches("iid"), progress=False)
    assert {r.name for r in report.layers} == {"module.stem.1", "module.block.1", "module.head.2"}


def test_report_str_and_dict() -> None:
    report = mg.recalibrate_bn(Net(), make_batches("iid"), progress=False)
    text = str(report)
    assert "recalibrate_bn: 3 layers, 6 batches" in text and "stem.1" in text
    d = report.to_dict()
    assert d["batches"] == 6 and len(d["layers"]) == 3
    shifts = [max(r.mean_shift, r.var_shift) for r in report.layers]
    assert shifts == sorted(shifts, reverse=True)


def test_half_precision_model_reduces_inputs_itself() -> None:
    torch.manual_seed(0)
    model = Net().to(torch.bfloat16)
    batches = [b.to(torch.bfloat16) for b in make_batches("noniid")]
    truth = ground_truth(model, batches)
    mg.recalibrate_bn(model, batches, progress=False)
    assert model.stem[1].running_mean.dtype == torch.bfloat16
    assert max_rel_err(model, truth) < 1e-2  # bfloat16 buffers hold ~3 significant digits


def test_buffer_objects_kept_and_long_loaders_fold_exactly() -> None:
    model = nn.Sequential(nn.Linear(3, 3), nn.BatchNorm1d(3))
    ids = {k: id(v) for k, v in model.named_buffers()}
    g = torch.Generator().manual_seed(3)
    batches = [torch.randn(4, 3, generator=g) * (1 + i % 7) + i for i in range(150)]  # > 2 folds
    truth = ground_truth(model, batches)
    mg.recalibrate_bn(model, batches, progress=False)
    assert {k: id(v) for k, v in model.named_buffers()} == ids  # DDP holds these references
    assert max_rel_err(model, truth) < 1e-5
