"""report(): rows, sentences and warnings for real torch modules; `modeguard inspect`."""

from __future__ import annotations

import json
import textwrap

import pytest
import torch
from click.testing import CliRunner
from torch import nn
from torch.nn import functional as F

import modeguard as mg
from modeguard.cli import main


class NoisyHead(nn.Module):
    """A custom module whose forward branches on self.training."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(8, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            x = x + 0.1 * torch.randn_like(x)
        return self.fc(x)


class Plain(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(2, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.fc(x))


def model() -> nn.Module:
    return nn.ModuleDict({
        "conv": nn.Conv2d(3, 8, 3), "bn": nn.BatchNorm2d(8), "drop": nn.Dropout(0.2),
        "drop2d": nn.Dropout2d(0.5), "alpha": nn.AlphaDropout(0.1),
        "lstm": nn.LSTM(8, 8, num_layers=2, dropout=0.3), "gru1": nn.GRU(8, 8, dropout=0.0),
        "mha": nn.MultiheadAttention(8, 2, dropout=0.1), "ln": nn.LayerNorm(8),
        "gn": nn.GroupNorm(2, 8), "inorm": nn.InstanceNorm2d(8, track_running_stats=True),
        "inorm_plain": nn.InstanceNorm2d(8), "head": NoisyHead(), "plain": Plain(),
        "sync": nn.SyncBatchNorm(8), "lazy": nn.LazyBatchNorm1d(),
    })


def rows(m: nn.Module) -> dict[str, mg.inspect.ModuleRow]:
    return {r.name: r for r in mg.report(m).rows}


def test_exactly_the_mode_sensitive_modules_are_listed() -> None:
    r = rows(model())
    assert set(r) == {"bn", "drop", "drop2d", "alpha", "lstm", "mha", "inorm", "head", "sync",
                      "lazy"}
    assert r["head"].kind == "custom" and r["lstm"].kind == "rnn"


def test_sentences_follow_the_four_batchnorm_cases() -> None:
    bn = nn.BatchNorm1d(3)
    assert mg.report(bn).rows[0].does == ("normalizes with batch statistics and updates running "
                                          "statistics, momentum 0.1 \u2248 last 10 batches")
    bn(torch.randn(4, 3))
    bn.eval()
    assert "running statistics (updated over 1 batches)" in mg.report(bn).rows[0].does
    nt = nn.BatchNorm1d(3, track_running_stats=False)
    assert mg.report(nt).rows[0].does.endswith("keeps no running statistics")
    assert "batch statistics even in eval mode" in mg.report(nt.eval()).rows[0].does
    cum = nn.BatchNorm1d(3, momentum=None)
    cum(torch.randn(4, 3))
    cum(torch.randn(4, 3))
    assert "cumulative average over all 2 batches" in mg.report(cum).rows[0].does


def test_sentences_for_dropout_rnn_attention_custom() -> None:
    m = model()
    r = rows(m)
    assert r["drop"].does == ("zeroes each element with probability 0.2 and scales the rest by "
                              "1/(1-p) = 1.25")
    assert "whole channels" in r["drop2d"].does
    assert r["lstm"].does == "applies dropout 0.3 between its 2 layers"
    assert "attention weights" in r["mha"].does
    assert "training-mode branch" in r["head"].does
    m.eval()
    r = rows(m)
    assert r["drop"].does == "passes the input through unchanged (identity)"
    assert "fast path" in r["mha"].does and r["lstm"].does.startswith("no dropout")
    assert "eval-mode branch" in r["head"].does
    assert all(row.mode == "eval" for row in r.values())


def test_the_sentence_is_true_dropout_eval_identity_and_train_scale() -> None:
    drop = nn.Dropout(0.2)
    x = torch.ones(10_000)
    y = drop(x)
    assert set(torch.unique(y).tolist()) == {0.0, 1.25}
    assert torch.equal(drop.eval()(x), x)


def test_policies_shown_including_inherited_pins() -> None:
    m = nn.Sequential(nn.Sequential(nn.Dropout(0.1), nn.BatchNorm1d(2)), nn.Dropout(0.5))
    mg.pin_mode(m[0], "eval")
    mg.pin_mode(m[1], "train")
    m.eval()
    r = rows(m)
    assert r["0.0"].policy == "pinned:eval via 0" and r["0.1"].policy == "pinned:eval via 0"
    assert r["1"].policy == "pinned:train" and r["1"].mode == "train"
    f = nn.Sequential(nn.BatchNorm1d(2))
    mg.freeze_bn(f)
    assert rows(f)["0"].policy == "frozen"
    assert mg.report(f).summary() == "1 mode-sensitive module: 0 train, 1 eval; 1 pinned or frozen"


def kinds(m: nn.Module) -> set[str]:
    return {w.kind for w in mg.report(m).warnings}


def test_warnings() -> None:
    m = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2), nn.Dropout(), nn.Dropout())
    assert kinds(m) == set()
    m[1].eval()  # a hand-made freeze: mixed modes, and statistics never updated
    assert kinds(m) == {"mixed-modes", "stats-never-updated"}
    w = [w for w in mg.report(m).warnings if w.kind == "mixed-modes"][0]
    assert w.modules == ("1",)
    m[1].train()
    m(torch.randn(4, 2))
    m[1].eval()
    assert kinds(m) == {"mixed-modes"}
    mg.freeze_bn(m)  # explained by a policy: no mixed-modes warning
    assert kinds(m) == set()
    assert kinds(nn.BatchNorm2d(3, momentum=0.9)) == {"keras-momentum"}
    assert kinds(nn.BatchNorm2d(3, momentum=0.1)) == set()
    assert kinds(nn.BatchNorm2d(3, track_running_stats=False).eval()) == \
        {"eval-without-running-stats"}


def test_to_dict_is_json_and_str_and_rich_render() -> None:
    r = mg.report(model())
    d = json.loads(json.dumps(r.to_dict()))
    assert d["summary"] == r.summary() and len(d["modules"]) == len(r.rows)
    text = str(r)
    assert "lstm (LSTM, train)" in text
    from rich.console import Console
    console = Console(record=True, width=160)
    console.print(r)
    assert "what it does now" in console.export_text()


def test_frozen_batchnorm_listed_as_not_mode_sensitive() -> None:
    m = mg.convert_frozen_bn(nn.Sequential(nn.BatchNorm2d(3)))
    (row,) = mg.report(m).rows
    assert row.kind == "frozen-bn" and "not mode-sensitive" in row.does


def test_report_rejects_non_module() -> None:
    with pytest.raises(TypeError, match="torch.nn.Module"):
        mg.report("resnet")  # type: ignore[arg-type]


# ------------------------------------------------------------------ CLI

FACTORY = textwrap.dedent("""
    import torch.nn as nn
    import modeguard as mg

    def build():
        m = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Dropout(0.5))
        mg.freeze_bn(m)
        return m

    def not_a_model():
        return 42

    VALUE = 3
""")


@pytest.fixture()
def pkg(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    (tmp_path / "mymodels.py").write_text(FACTORY)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def test_cli_inspect_text_and_json(pkg) -> None:  # type: ignore[no-untyped-def]
    runner = CliRunner()
    res = runner.invoke(main, ["inspect", "mymodels:build"], terminal_width=160)
    assert res.exit_code == 0, res.output
    assert "frozen" in res.output and "Dropout" in res.output
    res = runner.invoke(main, ["inspect", "mymodels.py:build", "--format", "json", "--eval"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    assert [m["mode"] for m in d["modules"]] == ["eval", "eval"]


@pytest.mark.parametrize("target, message", [
    ("mymodels", "expected MODULE:FACTORY"),
    ("nosuchmodule:build", "cannot import"),
    ("mymodels:missing", "has no attribute"),
    ("mymodels:VALUE", "not callable"),
    ("mymodels:not_a_model", "not a torch.nn.Module"),
    ("missing.py:build", "not found"),
])
def test_cli_inspect_bad_targets(pkg, target: str, message: str) -> None:  # type: ignore[no-untyped-def]
    res = CliRunner().invoke(main, ["inspect", target])
    assert res.exit_code == 2
    assert message in res.output
