"""An analyzer that crashes, recurses or hangs costs one file a notice, never the scan."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

from atlascan import engines
from atlascan.model import Limits, Span
from atlascan.rules import default_rules, rule_from_mapping
from atlascan.scan import ScanOptions, run_scan


def _fake_rule(engine: str) -> dict[str, object]:
    base = default_rules()["ATS-SEC-002"]
    return {
        "id": "ATS-FAKE-001", "name": "fake-hazard", "title": "t", "severity": "low", "precision": "low",
        "engine": engine, "kinds": ["python"], "message": "m", "guidance": base.guidance,
        "atlas": {"techniques": ["AML.T0055"]},
    }


class Crash(engines.Engine):
    def check_file(self, file, ctx):  # type: ignore[no-untyped-def]
        if "boom" in ctx.doc.text:
            raise ValueError("unexpected shape")
        if "deep" in ctx.doc.text:
            raise RecursionError
        if "slow" in ctx.doc.text:
            while True:
                pass
        if "swallow" in ctx.doc.text:
            while True:
                try:  # noqa: SIM105 - an engine's broad handler must not eat the timeout
                    sum(range(1000))
                except Exception:
                    pass
        ctx.finding("ATS-FAKE-001").at(Span(1)).emit()


@pytest.fixture
def fake_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    module = types.ModuleType("atlascan_fake_engine")
    module.Crash = Crash  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "atlascan_fake_engine", module)
    monkeypatch.setitem(engines.ENGINES, "fake", "atlascan_fake_engine:Crash")


def test_failures_become_notices(tmp_path: Path, fake_engine: None) -> None:
    for name, body in {"a.py": "boom\n", "b.py": "deep\n", "c.py": "slow\n", "d.py": "fine\n", "e.py": "swallow\n"}.items():
        (tmp_path / name).write_text(body, "utf-8")
    rules = {"ATS-FAKE-001": rule_from_mapping(_fake_rule("fake"), "fake.toml")}
    opts = ScanOptions(paths=[tmp_path], root=tmp_path, jobs=1, limits=Limits(file_timeout_s=0.5))
    result = run_scan(opts, rules)
    assert [(f.path, f.rule_id) for f in result.findings] == [("d.py", "ATS-FAKE-001")]
    notes = {n.path: n.message for n in result.notices}
    assert "Internal error" in notes["a.py"] and "unexpected shape" in notes["a.py"]
    assert "too deeply nested" in notes["b.py"]
    assert "longer than" in notes["c.py"]
    assert "longer than" in notes["e.py"]


def test_missing_engine_is_a_notice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(engines.ENGINES, "ghost", "atlascan_no_such_module:Nothing")
    (tmp_path / "a.py").write_text("x = 1\n", "utf-8")
    rules = {"ATS-FAKE-001": rule_from_mapping(_fake_rule("ghost"), "fake.toml")}
    result = run_scan(ScanOptions(paths=[tmp_path], root=tmp_path, jobs=1), rules)
    assert not result.findings
    assert [(n.path, "unavailable" in n.message) for n in result.notices] == [("a.py", True)]


def test_the_hook_tables_list_exactly_the_engines_that_override_the_hooks() -> None:
    """The plan imports only GROUPING engines, the prepare step only PREPARING ones: an
    engine missing from its table would lose its hook."""
    for name in engines.ENGINES:
        engine = type(engines.load_engine(name))
        assert (engine.group_key is not engines.Engine.group_key) == (name in engines.GROUPING), name
        assert (engine.prepare is not engines.Engine.prepare) == (name in engines.PREPARING), name


def test_path_gates_are_the_command_extractors_name_filters() -> None:
    """A commands gate that drifted from the extractor's file names would hide findings."""
    from atlascan.parsers.commandlines import NAME_FILTERS

    gated = {kind: pattern for (name, kind), pattern in engines.PATH_GATES.items() if name == "commands"}
    assert gated == {kind: f.pattern for kind, f in NAME_FILTERS.items()}
    assert {name for name, _ in engines.PATH_GATES} == {"commands"}


def test_text_gates_pass_what_the_engines_read(tmp_path: Path) -> None:
    """A Kubeflow component and a setup.py pass the dependency gate and are read; a plain
    module is passed by without loading the engine."""
    (tmp_path / "component.py").write_text(
        "from kfp import dsl\n@dsl.component(packages_to_install=['pandas'], pip_index_urls=['http://pypi.corp/simple'])\n"
        "def f() -> None: ...\n", "utf-8")
    (tmp_path / "setup.py").write_text("from setuptools import setup\nsetup(name='x', install_requires=['kit @ git+https://github.com/org/kit@dev'])\n", "utf-8")
    (tmp_path / "plain.py").write_text("print('hello')\n", "utf-8")
    result = run_scan(ScanOptions(paths=[tmp_path], root=tmp_path, jobs=1), default_rules())
    assert {f.path for f in result.findings if f.rule_id.startswith("ATS-DEP")} == {"component.py", "setup.py"}
