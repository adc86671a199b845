"""Running the checkov program: offline command line, timeouts, failures as notices, exit
codes, and configuration from the scanned repository held to data. A small shell script
stands in for Checkov here; tests/test_checkov_live.py runs the real one."""

from __future__ import annotations

import json
import re
import stat
import time
from pathlib import Path

import pytest

from atlascan.cli import main
from atlascan.integrations.checkov_runner import (
    CheckovError,
    CheckovSettings,
    build_command,
    run_checkov,
)
from test_checkov_output import DATA


def fake_checkov(folder: Path, body: str) -> Path:
    script = folder / "fake-checkov"
    script.write_text("#!/bin/sh\n" + body + "\n", encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "main.tf").write_text(
        (DATA / "project" / "main.tf").read_text("utf-8"), encoding="utf-8"
    )
    return root


@pytest.fixture
def recorded(tmp_path: Path, project: Path) -> Path:
    """A stand-in that prints the recorded terraform report for `project` and exits 1."""
    report = tmp_path / "report.json"
    report.write_text(
        (DATA / "report-terraform.json").read_text("utf-8").replace("{ROOT}", project.as_posix()),
        encoding="utf-8",
    )
    return fake_checkov(tmp_path, f"cat '{report}'\nexit 1")


def test_command_is_offline_and_never_names_the_root_with_d(project: Path) -> None:
    cmd = build_command(
        "checkov", project, [], CheckovSettings(), ["vendor", "data/raw/", "*.gen.tf"]
    )
    assert f"--directory={project}" in cmd
    assert (
        "-d" not in cmd and "--directory" not in cmd
    )  # `-d DIR` makes Checkov read DIR/.checkov.yaml
    assert {"--skip-download", "--compact", "--quiet"} <= set(cmd)
    assert cmd[cmd.index("--output") + 1] == "json"
    skips = [cmd[i + 1] for i, a in enumerate(cmd) if a == "--skip-path"]
    base = re.escape(project.as_posix())
    # Anchored at the absolute root; globs (*.gen.tf) are enforced on the findings instead.
    assert skips == [f"^{base}/(?:.+/)?vendor(?:/|$)", f"^{base}/data/raw(?:/|$)"]
    assert re.search(skips[0], f"{project}/modules/vendor") and not re.search(
        skips[0], f"{project}/vendored"
    )


def test_cli_merges_checkov_findings(
    project: Path, recorded: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "scan",
            str(project),
            "--root",
            str(project),
            "--with-checkov",
            "--checkov-bin",
            str(recorded),
            "--format",
            "json",
            "--select",
            "checkov/",
        ]
    )
    out = capsys.readouterr()
    data = json.loads(out.out)
    assert code == 1
    assert sorted((f["rule_id"], f["line"]) for f in data["findings"]) == [
        ("checkov/CKV_AWS_122", 5),
        ("checkov/CKV_AWS_22", 1),
    ]
    assert "checkov 3.3.30 ran" in out.err
    assert [n["message"] for n in data["notices"]] == [
        "Checkov could not parse 1 file(s); its checks skipped them."
    ]


def test_missing_checkov_is_a_notice_and_does_not_change_the_exit_code(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clean = tmp_path / "clean"
    clean.mkdir()
    (clean / "README.md").write_text("nothing to see\n", encoding="utf-8")
    args = [
        "scan",
        str(clean),
        "--root",
        str(clean),
        "--with-checkov",
        "--checkov-bin",
        str(tmp_path / "no-such-checkov"),
        "--format",
        "json",
    ]
    assert main(args) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["findings"] == []
    assert "was not found" in data["notices"][0]["message"]
    assert main([*args, "--strict"]) == 1


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (
            "echo 'Traceback (most recent call last):' >&2\necho 'ImportError: START_LINE' >&2\nexit 2",
            "status 2: ImportError: START_LINE",
        ),
        ("echo 'this is not json'\nexit 0", "no JSON report"),
    ],
)
def test_broken_checkov_is_a_notice(
    project: Path, tmp_path: Path, body: str, needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    script = fake_checkov(tmp_path, body)
    assert (
        main(
            [
                "scan",
                str(project),
                "--root",
                str(project),
                "--with-checkov",
                "--checkov-bin",
                str(script),
                "--format",
                "json",
                "--select",
                "checkov/",
            ]
        )
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert data["findings"] == []
    assert needle in data["notices"][0]["message"]


def test_timeout_stops_checkov_and_its_children(project: Path, tmp_path: Path) -> None:
    marker = tmp_path / "child-alive"
    script = fake_checkov(tmp_path, f"(sleep 3; touch '{marker}') &\nsleep 30")
    started = time.monotonic()
    with pytest.raises(CheckovError, match="did not finish within 1 s"):
        run_checkov(project, [], CheckovSettings(binary=str(script), timeout_s=1))
    assert time.monotonic() - started < 10
    time.sleep(3.5)
    assert not marker.exists()  # the whole process group was stopped


def test_runs_outside_the_scanned_folder_without_platform_keys(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = tmp_path / "seen"
    script = fake_checkov(
        tmp_path,
        f"pwd > '{seen}'\necho \"key=${{BC_API_KEY:-none}} update=$CKV_SKIP_PACKAGE_UPDATE_CHECK validate=$CKV_VALIDATE_SECRETS\" >> '{seen}'\necho '{{}}'",
    )
    monkeypatch.setenv("BC_API_KEY", "secret-platform-key")
    monkeypatch.setenv("CKV_VALIDATE_SECRETS", "true")
    run_checkov(project, [], CheckovSettings(binary=str(script)))
    cwd, env = seen.read_text("utf-8").splitlines()
    assert not cwd.startswith(str(project))
    assert env == "key=none update=true validate=false"


def test_checkov_bin_from_a_scanned_config_is_not_run_inside_the_root(
    project: Path,
    tmp_path: Path,
    recorded: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    marker = tmp_path / "ran"
    fake_checkov(project, f"touch '{marker}'\necho '{{}}'")
    (project / ".atlascan.toml").write_text(
        'with-checkov = true\ncheckov-bin = "./fake-checkov"\ncheckov-frameworks = ["terraform", "helm"]\n',
        encoding="utf-8",
    )
    monkeypatch.chdir(project)
    main(["scan", ".", "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    messages = " ".join(n["message"] for n in data["notices"])
    assert not marker.exists()
    assert "lies inside the scanned folder" in messages
    # Frameworks that run programs are refused even from a trusted (--config) file.
    trusted = tmp_path / "trusted.toml"
    trusted.write_text(
        f'with-checkov = true\ncheckov-bin = "{recorded}"\ncheckov-frameworks = ["terraform", "helm"]\n',
        encoding="utf-8",
    )
    main(["scan", ".", "--format", "json", "--config", str(trusted)])
    out = capsys.readouterr()
    messages = " ".join(n["message"] for n in json.loads(out.out)["notices"])
    assert "helm" in messages
    assert "checkov 3.3.30 ran" in out.err  # the trusted file's checkov-bin, with the safe frameworks
