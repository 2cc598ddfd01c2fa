"""The runtime watcher on real training loops: each injected bug found with the right code and
lines; correct loops produce nothing."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

import modeguard as mg
from modeguard.runner import ScriptError, run_script
from modeguard.watcher import ModeBugError, Watcher

SCRIPTS = Path(__file__).parent / "watch_scripts"


def line_of(script: str, marker: str) -> int:
    for i, text in enumerate((SCRIPTS / script).read_text().splitlines(), start=1):
        if f"# <{marker}>" in text:
            return i
    raise AssertionError(f"marker {marker} not in {script}")


def run(script: str, *args: str, **kw) -> tuple[int, list[dict]]:  # type: ignore[no-untyped-def]
    out = io.StringIO()
    status = run_script(str(SCRIPTS / script), args, fmt="json", output=out, **kw)
    return status, json.loads(out.getvalue())["findings"]


def codes(findings: list[dict]) -> set[str]:
    return {f["code"] for f in findings}


def test_validation_inside_loop_leaves_eval_on_mg101() -> None:
    status, findings = run("bug_validate_in_loop.py")
    assert status == 0
    (f,) = [f for f in findings if f["code"] == "MG101"]
    assert f["path"].endswith("bug_validate_in_loop.py")
    assert f["line"] == line_of("bug_validate_in_loop.py", "eval")
    assert f["related"][0]["line"] == line_of("bug_validate_in_loop.py", "step")
    assert f["count"] == 4  # steps 2, 3, 4 and 5 ran in eval mode after validate()
    assert codes(findings) == {"MG101"}


def test_validation_in_training_mode_under_no_grad_mg102() -> None:
    _, findings = run("bug_val_train_mode.py")
    (f,) = [f for f in findings if f["code"] == "MG102"]
    assert f["line"] == line_of("bug_val_train_mode.py", "forward")
    assert f["related"][0]["line"] == line_of("bug_val_train_mode.py", "train")
    assert f["extra"]["bn_stat_updates"] == 3  # the BatchNorm statistics moved 3 times
    assert codes(findings) == {"MG102"}


def test_bn_freeze_undone_by_model_train_mg301() -> None:
    _, findings = run("bug_freeze_undone.py")
    (f,) = [f for f in findings if f["code"] == "MG301"]
    assert f["line"] == line_of("bug_freeze_undone.py", "freeze")
    assert f["related"][0]["line"] == line_of("bug_freeze_undone.py", "undo")
    assert codes(findings) == {"MG301"}


def test_bn_training_on_batches_of_four_mg304() -> None:
    _, findings = run("bug_tiny_batch.py")
    (f,) = [f for f in findings if f["code"] == "MG304"]
    assert f["line"] == line_of("bug_tiny_batch.py", "tiny")
    assert f["count"] == 3 and "batch of 4" in f["message"]
    assert codes(findings) == {"MG304"}


def test_evaluation_with_autograd_on_mg401() -> None:
    _, findings = run("bug_eval_with_grad.py")
    (f,) = [f for f in findings if f["code"] == "MG401"]
    assert f["line"] == line_of("bug_eval_with_grad.py", "evalgrad")
    assert f["severity"] == "info"
    assert codes(findings) == {"MG401"}


def test_correct_patterns_produce_nothing_and_keep_exit_status(capsys) -> None:  # type: ignore[no-untyped-def]
    status, findings = run("good_loop.py", "--epochs", "1")
    assert findings == []
    assert status == 3
    assert "args ['--epochs', '1']" in capsys.readouterr().out


def test_lightning_like_trainer_produces_nothing() -> None:
    status, findings = run("good_trainer.py")
    assert (status, findings) == (0, [])


def test_script_exception_traceback_intact_and_exit_1(capsys) -> None:  # type: ignore[no-untyped-def]
    status, findings = run("crash.py")
    assert status == 1 and findings == []
    err = capsys.readouterr().err
    assert "RuntimeError: the script's own bug" in err
    assert 'crash.py", line 8, in broken' in err
    assert "runpy" not in err


def test_strict_stops_at_first_finding() -> None:
    status, findings = run("bug_val_train_mode.py", strict=True)
    assert status == 1 and codes(findings) == {"MG102"}


def test_select_and_ignore() -> None:
    _, findings = run("bug_validate_in_loop.py", ignore=["MG101"])
    assert findings == []
    with pytest.raises(ValueError, match="matches no rule"):
        run("bug_validate_in_loop.py", select=["XX"])


def test_missing_or_invalid_script(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ScriptError, match="no such script"):
        run_script(str(tmp_path / "nope.py"))
    bad = tmp_path / "bad.py"
    bad.write_text("def f(:\n")
    with pytest.raises(ScriptError, match="not valid Python"):
        run_script(str(bad))


def test_cli_run_subprocess_exit_codes_and_output(tmp_path) -> None:  # type: ignore[no-untyped-def]
    env_cmd = [sys.executable, "-m", "modeguard", "run"]
    res = subprocess.run([*env_cmd, str(SCRIPTS / "bug_validate_in_loop.py")],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0
    assert "trained" in res.stdout  # the script's own output is untouched
    assert "MG101" in res.stderr and "MG101" not in res.stdout
    out = tmp_path / "f.json"
    res = subprocess.run([*env_cmd, "--format", "json", "-o", str(out),
                          str(SCRIPTS / "good_loop.py"), "x"], capture_output=True, text=True,
                         timeout=300)
    assert res.returncode == 3
    assert json.loads(out.read_text())["findings"] == []
    res = subprocess.run([*env_cmd, str(tmp_path / "missing.py")], capture_output=True, text=True,
                         timeout=300)
    assert res.returncode == 2 and "no such script" in res.stderr


# ---------------------------------------------------------------- library use


def small() -> nn.Module:
    return nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.Dropout(0.2), nn.Linear(8, 1))


def train_steps(model: nn.Module, opt: torch.optim.Optimizer, n: int) -> None:
    for _ in range(n):
        loss = model(torch.randn(16, 4)).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()


def test_watch_model_context_and_start_stop() -> None:
    model = small()
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    w = mg.watch(model).start()
    model.eval()
    train_steps(model, opt, 3)
    w.stop()
    (f,) = w.findings
    assert f.code == "MG101" and f.count == 3 and f.detector == "watch"
    assert nn.Module.train.__module__ == "torch.nn.modules.module"  # patches removed
    assert "MG101" in w.summary()


def test_records_do_not_grow_with_steps() -> None:
    model = small()
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    with mg.watch(model) as w:
        model.eval()
        train_steps(model, opt, 5)
        sizes = (len(w._findings), len(w._pool), len(w._sites))
        train_steps(model, opt, 200)
        assert (len(w._findings), len(w._pool), len(w._sites)) == sizes
    assert w.findings[0].count == 205


def test_modeguard_contexts_and_policies_never_report() -> None:
    model = small()
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    with mg.watch(strict=True):
        with mg.eval_mode(model):  # eval with autograd on, inside our own context
            model(torch.randn(4, 4))
        with mg.train_mode(model), torch.no_grad():
            model(torch.randn(16, 4))
        mg.freeze_bn(model)
        model.train()
        train_steps(model, opt, 2)
        mg.pin_mode(model, "eval", types=nn.Dropout)
        train_steps(model, opt, 2)


def test_strict_raises_mode_bug_error_with_finding() -> None:
    model = small()
    with pytest.raises(ModeBugError) as info:
        with mg.watch(model, strict=True):
            with torch.no_grad():
                model(torch.randn(16, 4))
    assert info.value.finding.code == "MG102"
    assert Watcher._active is None


def test_single_value_per_channel_reported_before_torch_error() -> None:
    model = small()
    with mg.watch(model, select=["MG304"]) as w:
        with pytest.raises(ValueError, match="more than 1 value per channel"):
            model(torch.randn(1, 4))
    assert "one value per channel" in w.findings[0].message


def test_one_watcher_at_a_time_and_bad_arguments() -> None:
    with mg.watch():
        with pytest.raises(RuntimeError, match="already active"):
            mg.watch().start()
    with pytest.raises(TypeError, match="nn.Module"):
        mg.watch("model")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="min_batch"):
        mg.watch(min_batch=1)


def test_bn_recalibration_is_not_evaluation_in_training_mode() -> None:
    model = small()
    data = [torch.randn(16, 4) for _ in range(3)]
    with mg.watch(strict=True):
        torch.optim.swa_utils.update_bn(data, model)
        mg.recalibrate_bn(model, data, progress=False)
