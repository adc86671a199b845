"""The real Checkov (pinned) in its own virtualenv: mapped findings, dedupe against native
rules, one valid SARIF run, exported policies, and the `.checkov.yaml` guard.

Checkov never shares atlascan's environment (it pins some forty packages, several exactly),
so it is installed once into `$ATLASCAN_CHECKOV_VENV` (default: the user cache).
Where that cannot be done (no network, no pip) every test here skips with the reason.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from atlascan.cli import main
from atlascan.rules import default_rules
from conftest import FIXTURES
from sarif_checks import validate_sarif
from test_checkov_output import PROJECT

pytestmark = pytest.mark.slow

CHECKOV_VERSION = "3.3.30"
INSTALL_TIMEOUT_S = 900


def _venv() -> Path:
    given = os.environ.get("ATLASCAN_CHECKOV_VENV")
    if given:
        return Path(given)
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "atlascan" / f"checkov-{CHECKOV_VERSION}"


def _installed(exe: Path) -> bool:
    if not exe.is_file():
        return False
    probe = subprocess.run([str(exe.parent / "python"), "-c", "import checkov.version as v; print(v.version)"],
                           capture_output=True, text=True, timeout=120)  # fmt: skip
    return probe.stdout.strip() == CHECKOV_VERSION


@pytest.fixture(scope="session")
def checkov_bin() -> Path:
    """The pinned Checkov, installed once; one xdist worker installs while the others wait."""
    venv = _venv()
    exe = venv / "bin" / "checkov"
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(venv.parent / f".{venv.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _installed(exe):
            shutil.rmtree(venv, ignore_errors=True)
            try:
                base = getattr(sys, "_base_executable", sys.executable)
                subprocess.run(
                    [base, "-m", "venv", str(venv)], check=True, capture_output=True, timeout=300
                )
                subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", f"checkov=={CHECKOV_VERSION}"],
                               check=True, capture_output=True, timeout=INSTALL_TIMEOUT_S)  # fmt: skip
            except (subprocess.SubprocessError, OSError) as exc:
                detail = getattr(exc, "stderr", b"") or b""
                pytest.skip(
                    f"Checkov {CHECKOV_VERSION} could not be installed into {venv}: {exc} {detail[-300:]!r}"
                )
            if not _installed(exe):
                pytest.skip(f"Checkov {CHECKOV_VERSION} installed into {venv} but does not run")
    return exe


def scan(
    paths: list[Path], root: Path, capsys: pytest.CaptureFixture[str], *extra: str
) -> tuple[int, dict[str, Any], str, float]:
    started = time.perf_counter()
    code = main(
        [
            "scan",
            *map(str, paths),
            "--root",
            str(root),
            "--no-ignore-files",
            "--format",
            "json",
            *extra,
        ]
    )
    elapsed = time.perf_counter() - started
    out = capsys.readouterr()
    return code, json.loads(out.out), out.err, elapsed


def native_peers() -> set[str]:
    return {cid for rule in default_rules().values() for cid in rule.peers.get("checkov", ())}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(PROJECT, root)
    return root


def reported_as(
    findings: list[dict[str, Any]], check_id: str, path: str, line: int, block: tuple[int, int]
) -> dict[str, Any]:
    """The one finding that carries a Checkov check: the native finding inside the flagged
    resource when a native rule names the id in `peers.checkov`, else Checkov's own."""
    own = [
        f
        for f in findings
        if f["rule_id"] == f"checkov/{check_id}"
        and f["path"] == path
        and block[0] <= f["line"] <= block[1]
    ]
    folded = [
        f
        for f in findings
        if check_id in f["properties"].get("checkovIds", [])
        and f["path"] == path
        and block[0] <= f["line"] <= block[1]
    ]
    if check_id in native_peers():
        assert folded and not own, (check_id, own, folded)
        return folded[0]
    assert len(own) == 1 and not folded, (check_id, own, folded)
    assert own[0]["line"] == line
    return own[0]


def test_checkov_findings_are_mapped_deduplicated_and_filtered(
    checkov_bin: Path, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, data, err, _ = scan(
        [project], project, capsys, "--with-checkov", "--checkov-bin", str(checkov_bin)
    )
    assert code == 1
    assert f"checkov {CHECKOV_VERSION} ran" in err, err
    assert [n for n in data["notices"] if n["level"] != "note"] == [], data["notices"]
    findings = data["findings"]
    # Dedupe: ATS-TF-001 names CKV_AWS_122, so the notebook's internet access is reported once.
    native = reported_as(findings, "CKV_AWS_122", "main.tf", 5, (1, 6))
    assert native["rule_id"] == "ATS-TF-001" and native["line"] == 5
    # Checkov-only checks arrive mapped to ATLAS, at the line to change, with atlascan severity.
    logging = reported_as(findings, "CKV_AWS_18", "main.tf", 8, (8, 11))
    assert logging["rule_id"] == "checkov/CKV_AWS_18"
    assert (logging["severity"], logging["atlas"]["techniques"]) == ("low", ["AML.T0036"])
    assert (
        logging["message"]
        == "Checkov CKV_AWS_18 failed on `aws_s3_bucket.training_data`: Ensure the S3 bucket has access logging enabled."
    )
    unmapped = reported_as(findings, "CKV_AWS_144", "main.tf", 8, (8, 11))
    assert (
        unmapped["atlas"]["techniques"] == [] and unmapped["severity"] == "low"
    )  # unmapped, still reported
    public = reported_as(findings, "CKV_AWS_20", "main.tf", 10, (8, 11))
    assert public["line"] == 10 and public["column"] == 3
    assert not [
        f for f in findings if f["path"].startswith("vendor/")
    ]  # atlascan's vendored-folder rule holds
    # No Checkov finding duplicates a native finding that names its id.
    for f in findings:
        for cid in f["properties"].get("checkovIds", []):
            assert not [
                g
                for g in findings
                if g["rule_id"] == f"checkov/{cid}"
                and g["path"] == f["path"]
                and g["line"] == f["line"]
            ]


def test_sarif_holds_both_engines_in_one_valid_run(
    checkov_bin: Path, project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sarif = tmp_path / "out.sarif"
    main(
        [
            "scan",
            str(project),
            "--root",
            str(project),
            "--with-checkov",
            "--checkov-bin",
            str(checkov_bin),
            "--format",
            "sarif",
            "--output",
            str(sarif),
        ]
    )
    capsys.readouterr()
    log = json.loads(sarif.read_text("utf-8"))
    validate_sarif(log)
    ids = {r["ruleId"] for r in log["runs"][0]["results"]}
    assert "ATS-TF-001" in ids and "checkov/CKV_AWS_18" in ids


def test_terraform_fixtures_with_and_without_checkov(
    checkov_bin: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "terraform-fixtures"  # one root, so Checkov runs once over all modules
    for folder in sorted(p for p in FIXTURES.iterdir() if p.name.startswith("ATS-TF-")):
        shutil.copytree(folder, root / folder.name)
    _, plain, _, native_s = scan([root], root, capsys, "--select", "ATS-TF")
    _, both, err, both_s = scan(
        [root],
        root,
        capsys,
        "--select",
        "ATS-TF,checkov/",
        "--with-checkov",
        "--checkov-bin",
        str(checkov_bin),
    )
    checkov_findings = [f for f in both["findings"] if f["rule_id"].startswith("checkov/")]
    folded = sum(len(f["properties"].get("checkovIds", [])) for f in both["findings"])
    print(f"\nterraform fixtures: native {native_s:.2f} s, {len(plain['findings'])} findings; with checkov {both_s:.2f} s, "
          f"{len(checkov_findings)} checkov findings added, {folded} checkov ids folded into native findings; {err.strip()}")  # fmt: skip
    assert not [
        n for n in both["notices"] if "Checkov" in n["message"] and "parse" not in n["message"]
    ]
    assert len([f for f in both["findings"] if f["rule_id"].startswith("ATS-")]) == len(
        plain["findings"]
    )
    assert checkov_findings and folded
    assert all(f["path"].startswith("ATS-TF-") for f in checkov_findings)


def test_exported_policies_run_in_checkov(checkov_bin: Path, tmp_path: Path) -> None:
    policies = tmp_path / "policies"
    assert main(["export-checkov", str(policies)]) == 0
    proc = subprocess.run(
        [str(checkov_bin), f"--directory={FIXTURES / 'ATS-TF-001'}", "--framework", "terraform", "--skip-download",
         "--output", "json", "--compact", "--quiet", "--external-checks-dir", str(policies), "--check", "CKV2_ATLASCAN_TF_001"],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )  # fmt: skip
    report = json.loads(proc.stdout)
    failed = {c["resource"] for c in report["results"]["failed_checks"]}
    prefix = "aws_sagemaker_notebook_instance."
    assert {prefix + "default_access", prefix + "explicit"} <= failed
    assert prefix + "disabled" not in failed


def test_checkov_config_in_the_scanned_repository_is_not_loaded(
    checkov_bin: Path, project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A `.checkov.yaml` naming an external checks folder makes Checkov import Python from the
    repository when the folder is given as `-d`; atlascan's `--directory=` form does not."""
    marker = tmp_path / "imported"
    evil = project / "checks"
    evil.mkdir()
    (evil / "__init__.py").write_text("", encoding="utf-8")
    (evil / "evil_check.py").write_text(f"open({str(marker)!r}, 'w').close()\n", encoding="utf-8")
    (project / ".checkov.yaml").write_text(f"external-checks-dir:\n  - {evil}\n", encoding="utf-8")
    scan([project], project, capsys, "--with-checkov", "--checkov-bin", str(checkov_bin))
    assert not marker.exists()
    # The same repository given the usual way does run the code: the guard is what protects.
    subprocess.run([str(checkov_bin), "-d", str(project), "--framework", "terraform", "--skip-download", "--quiet"],
                   capture_output=True, timeout=300, cwd=project)  # fmt: skip
    assert marker.exists()
