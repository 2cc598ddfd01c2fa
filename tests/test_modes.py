"""snapshot/restore, eval_mode/train_mode/inference: exact restoration of every submodule's flag."""

from __future__ import annotations

import threading
import time

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

import modeguard as mg
from helpers import RecordingTrain
from modeguard.modes import active_depth


def flags(model: nn.Module) -> dict[int, bool]:
    return {id(m): m.training for m in model.modules()}


def mixed_model() -> nn.Sequential:
    model = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4), nn.Dropout(0.5),
                          nn.Sequential(nn.Dropout(0.1), nn.Linear(4, 2)))
    model[2].eval()          # deliberately in eval
    model[3][1].eval()
    return model


def test_snapshot_restore_exact_with_shared_module() -> None:
    shared = nn.Dropout(0.3)
    model = nn.Sequential(shared, nn.Sequential(shared, nn.BatchNorm1d(3)))
    shared.eval()
    before = flags(model)
    state = mg.snapshot(model)
    assert len(state) == 4  # the shared module once
    model.train()
    assert shared.training
    mg.restore(model, state)
    assert flags(model) == before
    assert state.as_dict(model)["0"] is False


def test_restore_writes_flags_without_calling_overridden_train() -> None:
    model = RecordingTrain()
    calls = model.calls
    state = mg.snapshot(model)
    model.eval()
    calls.clear()
    mg.restore(model, state)
    assert model.training and model.drop.training
    assert calls == []


def test_restore_rejects_other_model_and_bad_state() -> None:
    a, b = nn.Linear(2, 2), nn.Linear(2, 2)
    state = mg.snapshot(a)
    with pytest.raises(ValueError, match="different model"):
        mg.restore(b, state)
    with pytest.raises(TypeError, match="ModeState"):
        mg.restore(a, {"training": True})  # type: ignore[arg-type]


@pytest.mark.parametrize("ctx, mode", [(mg.eval_mode, False), (mg.train_mode, True)])
def test_context_sets_and_restores(ctx, mode) -> None:  # type: ignore[no-untyped-def]
    model = mixed_model()
    before = flags(model)
    with ctx(model):
        assert all(m.training is mode for m in model.modules())
    assert flags(model) == before


def test_eval_mode_restores_on_exception_and_keyboard_interrupt() -> None:
    model = mixed_model()
    before = flags(model)
    with pytest.raises(RuntimeError):
        with mg.eval_mode(model):
            raise RuntimeError("boom")
    assert flags(model) == before
    with pytest.raises(KeyboardInterrupt):
        with mg.train_mode(model):
            raise KeyboardInterrupt
    assert flags(model) == before


def test_nested_contexts_and_several_models() -> None:
    a, b = mixed_model(), nn.Sequential(nn.Dropout(), nn.BatchNorm1d(2)).eval()
    fa, fb = flags(a), flags(b)
    with mg.eval_mode(a, b):
        assert not a.training and not b.training
        with mg.train_mode(b):
            assert b.training and not a.training
            with mg.eval_mode(b):
                assert not b.training
            assert b.training
        assert not b.training
    assert flags(a) == fa and flags(b) == fb


def test_decorator_is_reentrant_and_restores() -> None:
    model = mixed_model()
    before = flags(model)
    seen = []

    @mg.eval_mode(model)
    def evaluate(depth: int) -> None:
        seen.append(model.training)
        if depth:
            model.train()  # misbehaving code inside: still restored at exit
            evaluate(depth - 1)

    evaluate(3)
    assert seen == [False] * 4
    assert flags(model) == before


def test_decorator_thread_safety() -> None:
    model = nn.Sequential(nn.Dropout())
    errors: list[BaseException] = []

    @mg.eval_mode(model)
    def work() -> None:
        time.sleep(0)  # let another thread run while this one is inside
        assert not model[0].training

    def run() -> None:
        try:
            for _ in range(200):
                work()
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert model.training and model[0].training


def test_contexts_honour_sticky_policies() -> None:
    model = nn.Sequential(nn.Linear(3, 3), nn.BatchNorm1d(3), nn.Dropout(0.2))
    mg.freeze_bn(model)
    mg.pin_mode(model, "train", types=nn.Dropout)
    with mg.train_mode(model):
        assert model.training and not model[1].training
    with mg.eval_mode(model):
        assert not model.training and model[2].training
    with mg.inference(model):
        assert model[2].training and not model[1].training


@pytest.mark.parametrize("grad", ["inference_mode", "no_grad"])
def test_inference_switches_autograd_off_and_restores(grad: str) -> None:
    model = mixed_model()
    before = flags(model)
    assert torch.is_grad_enabled()
    with mg.inference(model, grad=grad):  # type: ignore[arg-type]
        assert not torch.is_grad_enabled()
        assert torch.is_inference_mode_enabled() is (grad == "inference_mode")
        assert not model.training
        out = model(torch.randn(2, 4))
        assert not out.requires_grad
    assert torch.is_grad_enabled() and not torch.is_inference_mode_enabled()
    assert flags(model) == before


def test_inference_restores_grad_mode_on_error() -> None:
    model = mixed_model()
    with pytest.raises(ValueError):
        with mg.inference(model):
            raise ValueError
    assert torch.is_grad_enabled()
    with torch.no_grad():  # already off outside: stays off after
        with mg.inference(model, grad="no_grad"):
            pass
        assert not torch.is_grad_enabled()


def test_active_depth_counts_open_contexts() -> None:
    model = nn.Linear(2, 2)
    assert active_depth() == 0
    with mg.eval_mode(model):
        assert active_depth() == 1
        with mg.inference(model):
            assert active_depth() == 2
    assert active_depth() == 0


@pytest.mark.parametrize("bad", [None, 3, "model", torch.ones(2)])
def test_bad_arguments(bad) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(TypeError, match="nn.Module"):
        mg.eval_mode(bad)
    with pytest.raises(TypeError, match="nn.Module"):
        mg.snapshot(bad)
    with pytest.raises(TypeError, match="at least one model"):
        mg.train_mode()


def test_inference_bad_grad_value_changes_nothing() -> None:
    model = mixed_model()
    before = flags(model)
    with pytest.raises(ValueError, match="inference_mode"):
        mg.inference(model, grad="off")  # type: ignore[arg-type]
    assert flags(model) == before


def test_overridden_train_is_called_by_contexts() -> None:
    class Backbone(nn.Module):
        """norm_eval style: keeps its BatchNorm in eval whatever train() says."""

        def __init__(self) -> None:
            super().__init__()
            self.bn = nn.BatchNorm1d(2)
            self.drop = nn.Dropout()

        def train(self, mode: bool = True):  # type: ignore[override]
            super().train(mode)
            self.bn.eval()
            return self

    model = nn.Sequential(Backbone()).eval()
    with mg.train_mode(model):
        assert model[0].drop.training and not model[0].bn.training
    assert not model[0].drop.training


# ----------------------------------------------------------------- property test

LEAVES = (lambda: nn.Dropout(0.5), lambda: nn.BatchNorm1d(2), lambda: nn.Linear(2, 2))


@st.composite
def programs(draw):  # type: ignore[no-untyped-def]
    n = draw(st.integers(2, 9))
    kinds = draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))  # 3 = container
    parents = [draw(st.integers(0, j - 1)) for j in range(1, n)]
    extra = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=4))
    modes = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    pins = draw(st.lists(st.sampled_from([None, None, "train", "eval", "freeze"]),
                         min_size=n, max_size=n))
    ops = draw(st.lists(st.tuples(st.sampled_from(["eval", "train", "inference", "mutate"]),
                                  st.integers(0, n - 1), st.booleans()),
                        min_size=1, max_size=6))
    raise_at = draw(st.integers(0, 7))
    exc = draw(st.sampled_from([RuntimeError, KeyboardInterrupt]))
    return kinds, parents, extra, modes, pins, ops, raise_at, exc


def build(kinds, parents, extra):  # type: ignore[no-untyped-def]
    nodes: list[nn.Module] = [nn.Module() if k == 3 else LEAVES[k]() for k in kinds]
    nodes[0] = nn.Module()  # root is a container
    for j, p in enumerate(parents, start=1):  # a random tree (any module may have children)
        nodes[p].add_module(f"c{j}", nodes[j])
    for a, b in extra:  # shared submodules: attach b under a second parent (kept acyclic)
        if a < b:
            nodes[a].add_module(f"s{b}", nodes[b])
    return nodes


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs())
def test_property_every_flag_restored(program) -> None:  # type: ignore[no-untyped-def]
    kinds, parents, extra, modes, pins, ops, raise_at, exc = program
    nodes = build(kinds, parents, extra)
    root = nodes[0]
    for node, flag in zip(nodes, modes):
        node.training = flag
    for node, pin in zip(nodes, pins):
        if pin == "freeze" and isinstance(node, nn.BatchNorm1d):
            mg.freeze_bn(node)
        elif pin in ("train", "eval") and not mg.policy.is_frozen(node):
            mg.pin_mode(node, pin)
    before = flags(root)
    pins_before = mg.pinned(root)

    def run(depth: int, inside: bool = False) -> None:
        if depth == raise_at:
            raise exc("injected")
        if depth >= len(ops):
            return
        kind, idx, flag = ops[depth]
        if kind == "mutate":  # user code flipping modes inside a context
            if inside:
                nodes[idx].train(flag)
            run(depth + 1, inside)
            return
        ctx = {"eval": mg.eval_mode, "train": mg.train_mode, "inference": mg.inference}[kind]
        with ctx(root):
            want = kind == "train"
            for m in root.modules():
                pin = mg.policy.pin_of(m)
                if pin is None and not any(mg.policy.pin_of(a) for a in root.modules()
                                           if m in list(a.modules())[1:]):
                    assert m.training is want
                elif pin is not None:  # a pin always wins
                    assert m.training is (pin == "train")
            run(depth + 1, True)

    try:
        run(0)
    except (RuntimeError, KeyboardInterrupt):
        pass
    assert flags(root) == before
    assert mg.pinned(root) == pins_before


def test_a_context_holds_its_models_against_other_threads() -> None:
    """Modes belong to the model, not to a thread: a train_mode context in another thread
    waits until the eval_mode context that holds the model exits, instead of switching it
    under the running evaluation."""
    model = nn.Sequential(nn.Linear(2, 2), nn.Dropout())
    inside = threading.Event()
    seen: list[bool] = []

    def other() -> None:
        inside.wait()
        with mg.train_mode(model):
            seen.append(model[1].training)

    thread = threading.Thread(target=other)
    thread.start()
    with mg.eval_mode(model):
        inside.set()
        time.sleep(0.3)  # the other thread tries to switch the model now
        seen.append(model[1].training)
    thread.join()
    assert seen == [False, True]  # evaluation undisturbed, then the other thread's training
    assert model.training and model[1].training
