"""The command line as a user drives it: exit codes, formats, selection, config, baseline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from atlascan.cli import main

TOKEN_LINE = 'HF_TOKEN = "hf_9jYg7SjjPvttfbfMLZuPjII4OoaQmzBinn"\n'


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "train.py").write_text("import os\n" + TOKEN_LINE, "utf-8")
    (tmp_path / "clean.py").write_text("print('hello')\n", "utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_exit_codes(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", "clean.py"]) == 0
    assert main(["scan"]) == 1
    out = capsys.readouterr().out
    assert "train.py" in out and "ATS-SEC-002" in out
    assert "hf_9jYg7SjjPvttfbfMLZuPjII4OoaQmzBinn" not in out
    assert main(["scan", "--fail-on", "critical"]) == 0
    with pytest.raises(SystemExit) as exc:
        main(["scan", "--format", "nonsense"])
    assert exc.value.code == 2


def test_json_and_sarif_outputs(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", "-f", "sarif", "-o", "out/r.sarif", "-f", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["summary"]["findings"] == 1
    finding = data["findings"][0]
    assert (finding["rule_id"], finding["path"], finding["line"]) == ("ATS-SEC-002", "train.py", 2)
    sarif = json.loads((repo / "out" / "r.sarif").read_text("utf-8"))
    assert sarif["runs"][0]["results"][0]["ruleId"] == "ATS-SEC-002"


def test_two_reports_on_stdout_is_a_usage_error(repo: Path) -> None:
    assert main(["scan", "-f", "json", "-f", "sarif"]) == 2


def test_select_and_ignore(repo: Path) -> None:
    assert main(["scan", "--ignore", "ATS-SEC"]) == 0
    assert main(["scan", "--select", "ATS-SEC-001"]) == 0
    assert main(["scan", "--select", "ATS-SEC-002,ATS-SEC-001"]) == 1


def test_severity_threshold_hides_findings(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", "--severity-threshold", "critical", "-f", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["findings"] == []


def test_github_annotations(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["scan", "-f", "github"])
    line = capsys.readouterr().out.strip()
    assert line.startswith("::error file=train.py,line=2,col=13,")
    assert "ATS-SEC-002" in line


def test_config_file(repo: Path) -> None:
    (repo / ".atlascan.toml").write_text('ignore = ["ATS-SEC"]\n', "utf-8")
    assert main(["scan"]) == 0
    (repo / ".atlascan.toml").write_text('per-path-ignores = { "train.py" = ["ATS-SEC"] }\n', "utf-8")
    assert main(["scan"]) == 0
    (repo / ".atlascan.toml").write_text('fail-on = "critical"\n', "utf-8")
    assert main(["scan"]) == 0
    (repo / ".atlascan.toml").write_text('bogus = 1\n', "utf-8")
    assert main(["scan"]) == 2
    (repo / ".atlascan.toml").write_text('select = "not a list"\n', "utf-8")
    assert main(["scan"]) == 2


def test_pyproject_config(repo: Path) -> None:
    (repo / "pyproject.toml").write_text('[project]\nname = "x"\n[tool.atlascan]\nexclude = ["train.py"]\n', "utf-8")
    assert main(["scan"]) == 0


def test_baseline_hides_known_findings_and_survives_moves(repo: Path) -> None:
    assert main(["scan", "--write-baseline", "baseline.json"]) == 0
    assert main(["scan", "--baseline", "baseline.json"]) == 0
    # the same line moved down: still known
    (repo / "train.py").write_text("import os\n\n\n# moved\n" + TOKEN_LINE, "utf-8")
    assert main(["scan", "--baseline", "baseline.json"]) == 0
    # a new finding is not in the baseline
    (repo / "other.py").write_text('KEY = "hf_lauFuy31Njf72dLqLJ3pKO5RvZYXfjY81t"\n', "utf-8")
    assert main(["scan", "--baseline", "baseline.json"]) == 1
    assert main(["scan", "--baseline", "missing.json"]) == 2


def test_inline_suppression_and_override(repo: Path) -> None:
    (repo / "train.py").write_text("# atlascan: ignore[ATS-SEC-002] rotated test token\n" + TOKEN_LINE, "utf-8")
    assert main(["scan"]) == 0
    assert main(["scan", "--no-inline-ignores"]) == 1
    (repo / "train.py").write_text("# atlascan: ignore\n" + TOKEN_LINE, "utf-8")
    assert main(["scan"]) == 1  # a bare ignore names no rule and is not honoured
    (repo / "train.py").write_text('X = "# atlascan: ignore[ATS-SEC-002]"\n' + TOKEN_LINE, "utf-8")
    assert main(["scan"]) == 1  # inside a string, not a comment


def test_secret_scanners_allowlist_comments_suppress_secret_rules_on_their_line(tmp_path: Path) -> None:
    from scanning import scan_path, write_tree

    dsn = "postgresql://feast:Fe4stDbPass@db.internal:5432/feast"
    write_tree(tmp_path, {
        "same.yaml": f"path: {dsn}  # pragma: allowlist secret\n",
        "next.yaml": f"# pragma: allowlist nextline secret\npath: {dsn}\n",
        "gitleaks.py": TOKEN_LINE.rstrip() + "  # gitleaks:allow\n",
        "below.yaml": f"# pragma: allowlist secret\npath: {dsn}\n",  # names its own line only
        "other_rule.py": "import pickle\npickle.load(open(path, 'rb'))  # pragma: allowlist secret\n",
    })  # fmt: skip
    found = {(f.path, f.rule_id): f.suppression for f in scan_path(tmp_path).findings}
    assert set(found) == {
        ("same.yaml", "ATS-SEC-008"), ("next.yaml", "ATS-SEC-008"), ("gitleaks.py", "ATS-SEC-002"),
        ("below.yaml", "ATS-SEC-008"), ("other_rule.py", "ATS-PY-001"),
    }  # fmt: skip
    assert sorted(path for (path, _), s in found.items() if s is not None) == ["gitleaks.py", "next.yaml", "same.yaml"]
    assert "`pragma: allowlist secret`" in found["same.yaml", "ATS-SEC-008"].justification  # type: ignore[union-attr]


def test_strict_fails_on_parse_notices(repo: Path) -> None:
    (repo / "bad.ipynb").write_text("{", "utf-8")
    (repo / "train.py").unlink()
    assert main(["scan"]) == 0
    assert main(["scan", "--strict"]) == 1


def test_rules_and_explain(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "--format", "json"]) == 0
    rules = json.loads(capsys.readouterr().out)
    assert any(r["id"] == "ATS-SEC-002" and r["atlas_techniques"][0]["id"] == "AML.T0055" for r in rules)
    assert main(["explain", "ATS-SEC-002"]) == 0
    text = capsys.readouterr().out
    for heading in ("## What it does", "## Why it matters", "## Example", "## Use instead", "## MITRE ATLAS"):
        assert heading in text
    assert main(["explain", "hardcoded-huggingface-token"]) == 0
    assert main(["explain", "ATS-NOPE-999"]) == 2


def test_paths_outside_cwd_are_relative_to_their_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "proj"
    target.mkdir()
    (target / "a.py").write_text(TOKEN_LINE, "utf-8")
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    main(["scan", str(target), "-f", "json"])
    assert json.loads(capsys.readouterr().out)["findings"][0]["path"] == "a.py"


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=120)


def test_version_and_one_file_scan_import_no_heavy_modules(tmp_path: Path) -> None:
    (tmp_path / "values.yaml").write_text("a: 1\n", "utf-8")
    probe = (
        "import sys, runpy; sys.argv = ['atlascan', 'scan', 'values.yaml', '-q'];\n"
        "try:\n    runpy.run_module('atlascan', run_name='__main__')\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('libcst', 'tree_sitter', 'checkov', 'sarif_om') if m in sys.modules]\n"
        "print('HEAVY', heavy)"
    )
    out = _run("-c", probe, cwd=tmp_path)
    assert "HEAVY []" in out.stdout, out.stdout + out.stderr
    version = _run("-m", "atlascan", "--version", cwd=tmp_path)
    assert version.stdout.startswith("atlascan ")


@pytest.mark.parametrize(
    ("name", "text", "unwanted"),
    [
        ("values.yaml", "image: python:latest\nspec:\n  containers: []\n",
         ("atlascan.engines.python", "atlascan.parsers.python", "atlascan.engines.terraform")),
        ("train.py", "import torch\nmodel = torch.load(path)\n",
         ("atlascan.engines.manifests", "atlascan.engines.workflows", "atlascan.engines.terraform", "atlascan.parsers.yaml",
          "packaging.tags", "atlascan.engines.dependencies", "atlascan.engines.commands", "atlascan.parsers.requirements")),
    ],
)
def test_one_file_plain_text_scan_imports_only_what_its_kind_needs(tmp_path: Path, name: str, text: str, unwanted: tuple[str, ...]) -> None:
    """Text output to a pipe is rendered without rich; one file loads only its kind's engines
    and no worker pool."""
    (tmp_path / name).write_text(text, "utf-8")
    probe = (
        f"import sys, runpy; sys.argv = ['atlascan', 'scan', {name!r}];\n"
        "try:\n    runpy.run_module('atlascan', run_name='__main__')\nexcept SystemExit:\n    pass\n"
        f"loaded = [m for m in ('rich', 'multiprocessing', 'pathspec', *{unwanted!r}) if m in sys.modules]\n"
        "print('LOADED', loaded)"
    )
    _run("-m", "atlascan", "scan", name, cwd=tmp_path)  # builds the rule catalog's cache, as a user's first run does
    out = _run("-c", probe, cwd=tmp_path)
    assert "LOADED []" in out.stdout, out.stdout + out.stderr
    assert "finding(s)" in out.stdout


def test_our_own_repository_scans_clean(monkeypatch: pytest.MonkeyPatch) -> None:
    """Eat our own cooking: the repository (with its .atlascan.toml) has no findings."""
    from conftest import ROOT

    monkeypatch.chdir(ROOT)
    assert main(["scan", ".", "-q", "--fail-on", "info"]) == 0


def test_include_unproven_from_the_flag_or_the_repositorys_configuration(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A checkpoint named on a script's command line is held back by default (counted in a
    # notice); the flag, or the repository saying so (it only changes what is reported of
    # files scanned anyway), reports it.
    (tmp_path / "convert.py").write_text("import sys, torch\nstate = torch.load(sys.argv[1])\n", encoding="utf-8")
    args = ["scan", str(tmp_path), "--root", str(tmp_path), "-f", "json", "--no-cache"]
    assert main(args) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["findings"] == []
    assert [n["message"].split(":")[0] for n in data["notices"] if "--include-unproven" in n["message"]] == ["ATS-PY-004"]
    assert main([*args, "--include-unproven"]) == 1
    assert [(f["rule_id"], f["line"]) for f in json.loads(capsys.readouterr().out)["findings"]] == [("ATS-PY-004", 2)]
    (tmp_path / ".atlascan.toml").write_text("include-unproven = true\n", encoding="utf-8")
    assert main(args) == 1
    data = json.loads(capsys.readouterr().out)
    assert [(f["rule_id"], f["line"]) for f in data["findings"]] == [("ATS-PY-004", 2)]
    assert not [n for n in data["notices"] if "include-unproven" in n["message"]]


def test_pedantic_rules_from_the_flag_the_configuration_or_their_id(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # ATS-DEP-005 (an ML package at any version) is pedantic: counted in one notice by default;
    # the flag, the repository's configuration, or selecting the rule by its id reports it.
    (tmp_path / "requirements.txt").write_text("fastapi==0.115.0\ntorch\n", encoding="utf-8")
    args = ["scan", str(tmp_path), "--root", str(tmp_path), "-f", "json", "--no-cache"]
    assert main(args) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["findings"] == []
    assert [n["message"] for n in data["notices"] if "pedantic" in n["message"]] == [
        "ATS-DEP-005: 1 site held back: a pedantic pinning rule, seldom worth acting on where it stands; "
        "--include-pedantic reports them."
    ]
    for extra in (["--include-pedantic"], ["--select", "ATS-DEP-005"]):
        assert main([*args, *extra]) == 1
        assert [(f["rule_id"], f["line"]) for f in json.loads(capsys.readouterr().out)["findings"]] == [("ATS-DEP-005", 2)]
    # A prefix selects the family, not the pedantic rule by name: still held back.
    assert main([*args, "--select", "ATS-DEP"]) == 0
    capsys.readouterr()
    (tmp_path / ".atlascan.toml").write_text("include-pedantic = true\n", encoding="utf-8")
    assert main(args) == 1
    assert [(f["rule_id"], f["line"]) for f in json.loads(capsys.readouterr().out)["findings"]] == [("ATS-DEP-005", 2)]
