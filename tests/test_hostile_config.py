"""A hostile repository's configuration and programs: nothing found inside the scanned tree
starts a program, raises a resource limit or reads a file outside the tree. Each fake
`checkov` here writes a marker file when run; the marker must never appear."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from atlascan import scan
from atlascan.cli import main
from atlascan.scan import ScanOptions
from test_checkov_output import DATA

TOKEN_LINE = 'HF_TOKEN = "hf_9jYg7SjjPvttfbfMLZuPjII4OoaQmzBinn"\n'


def fake_checkov(path: Path, marker: Path) -> Path:
    """A stand-in that leaves `marker` behind and prints an empty, valid report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\ntouch '{marker}'\necho '{{}}'\n", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A git checkout (found by its `.git` entry) with Terraform in a sub-folder `ml/`."""
    repo = tmp_path / "checkout"
    (repo / ".git").mkdir(parents=True)
    (repo / "ml").mkdir()
    (repo / "ml" / "main.tf").write_text((DATA / "project" / "main.tf").read_text("utf-8"), encoding="utf-8")
    (repo / "ml" / "train.py").write_text("import os\n" + TOKEN_LINE, encoding="utf-8")
    return repo


def run(root: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, dict[str, Any]]:
    code = main(["scan", str(root), "--root", str(root), "--format", "json", *extra])
    return code, json.loads(capsys.readouterr().out)


def messages(data: dict[str, Any]) -> str:
    return "\n".join(n["message"] for n in data["notices"])


@pytest.mark.parametrize("scanned", [".", "ml"], ids=["checkout", "sub-folder"])
def test_a_checkov_the_repository_ships_on_path_never_runs(
    checkout: Path, tmp_path: Path, scanned: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = tmp_path / "ran"
    fake_checkov(checkout / "bin" / "checkov", marker)  # e.g. a PATH entry direnv or a venv added
    monkeypatch.setenv("PATH", f"{checkout / 'bin'}{os.pathsep}{os.environ['PATH']}")
    _, data = run(checkout / scanned, capsys, "--with-checkov")
    assert not marker.exists()
    assert "lies inside the scanned folder or its git repository" in messages(data)


@pytest.mark.parametrize("scanned", [".", "ml"], ids=["checkout", "sub-folder"])
def test_a_symlinked_checkov_bin_into_the_repository_never_runs(
    checkout: Path, tmp_path: Path, scanned: str, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = tmp_path / "ran"
    target = fake_checkov(checkout / "tools" / "checkov", marker)
    link = tmp_path / "elsewhere" / "checkov"
    link.parent.mkdir()
    link.symlink_to(target)
    _, data = run(checkout / scanned, capsys, "--with-checkov", "--checkov-bin", str(link))
    assert not marker.exists()
    assert f"{target} with links followed) lies inside the scanned folder or its git repository" in messages(data)


def test_a_config_in_a_scanned_sub_folder_cannot_name_a_checkov_elsewhere_in_the_checkout(
    checkout: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = tmp_path / "ran"
    binary = fake_checkov(checkout / "tools" / "checkov", marker)
    (checkout / "ml" / ".atlascan.toml").write_text(
        f'with-checkov = true\ncheckov-bin = "{binary}"\nignore = ["ATS"]\n', encoding="utf-8"
    )
    monkeypatch.chdir(checkout / "ml")
    code = main(["scan", ".", "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    assert not marker.exists()
    notices = {n["message"].split(" was ignored")[0]: n for n in data["notices"]}
    assert {"`with-checkov` in .atlascan.toml", "`checkov-bin` in .atlascan.toml"} <= set(notices)
    assert "it starts a program" in notices["`with-checkov` in .atlascan.toml"]["message"]
    assert notices["`checkov-bin` in .atlascan.toml"]["path"] == ".atlascan.toml"
    assert code == 0  # the narrowing key still counts: native rules are ignored
    # Asked for on the command line, Checkov still does not come from the config.
    main(["scan", ".", "--format", "json", "--with-checkov"])
    assert not marker.exists()
    assert "`checkov-bin` in .atlascan.toml was ignored" in messages(json.loads(capsys.readouterr().out))


def test_a_config_at_the_root_linking_out_of_it_is_still_the_repositorys(
    checkout: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = tmp_path / "ran"
    binary = fake_checkov(tmp_path / "tools" / "checkov", marker)  # outside the checkout
    (checkout / "evil.toml").write_text(f'with-checkov = true\ncheckov-bin = "{binary}"\n', encoding="utf-8")
    (checkout / "ml" / ".atlascan.toml").symlink_to(checkout / "evil.toml")
    _, data = run(checkout / "ml", capsys)
    assert not marker.exists()
    assert "`with-checkov` in .atlascan.toml was ignored" in messages(data)


def test_resource_keys_and_an_outside_baseline_in_the_repository_config_are_ignored(
    checkout: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = checkout / "ml"
    assert main(["scan", str(root), "--root", str(root), "--write-baseline", str(tmp_path / "outside.json")]) == 0
    (root / "pyproject.toml").write_text(
        '[tool.atlascan]\njobs = 64\nmax-file-size-kb = 10000000\ninclude-generated = true\ninclude-vendored = true\n'
        'checkov-timeout = 100000\nbaseline = "../../outside.json"\nfail-on = "medium"\n',
        encoding="utf-8",
    )
    seen: list[ScanOptions] = []
    real = scan.run_scan
    monkeypatch.setattr(scan, "run_scan", lambda opts, *a, **k: seen.append(opts) or real(opts, *a, **k))
    code, data = run(root, capsys)
    [opts] = seen
    assert (opts.jobs, opts.limits.max_text_bytes, opts.limits.include_generated, opts.include_vendored) == (
        0, 5 * 1024 * 1024, False, False,
    )  # fmt: skip
    assert opts.baseline is None and code == 1  # the outside baseline would have hidden the token
    ignored = {n["message"].split("`")[1] for n in data["notices"] if " was ignored: " in n["message"]}
    assert ignored == {"jobs", "max-file-size-kb", "include-generated", "include-vendored", "checkov-timeout", "baseline"}
    assert "it reads a file outside the scanned folder" in messages(data)


def test_a_baseline_inside_the_tree_still_counts(checkout: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = checkout / "ml"
    assert main(["scan", str(root), "--root", str(root), "--write-baseline", str(root / "baseline.json")]) == 0
    (root / ".atlascan.toml").write_text('baseline = "baseline.json"\n', encoding="utf-8")
    code, data = run(root, capsys)
    assert code == 0 and " was ignored: " not in messages(data)


def test_trusted_sources_may_start_checkov(
    checkout: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The command line, a file named with --config and the user's own file outside the tree."""
    marker = tmp_path / "ran"
    binary = fake_checkov(tmp_path / "tools" / "checkov", marker)
    named = tmp_path / "ci.toml"
    named.write_text(f'with-checkov = true\ncheckov-bin = "{binary}"\ncheckov-frameworks = ["terraform", "helm"]\n', "utf-8")
    _, data = run(checkout, capsys, "--config", str(named))
    assert marker.exists()
    assert "helm" in messages(data) and " was ignored: " not in messages(data)
    marker.unlink()
    xdg = tmp_path / "xdg"
    (xdg / "atlascan").mkdir(parents=True)
    (xdg / "atlascan" / "config.toml").write_text(f'with-checkov = true\ncheckov-bin = "{binary}"\njobs = 1\n', "utf-8")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(xdg))
    (checkout / "ml" / ".atlascan.toml").write_text('ignore = ["ATS"]\n', encoding="utf-8")
    code, data = run(checkout / "ml", capsys)
    assert marker.exists() and code == 0  # the user's file starts Checkov; the project's narrows
    assert " was ignored: " not in messages(data)


def test_a_user_config_inside_the_scanned_tree_is_held_to_narrowing(
    checkout: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Scanning the folder that holds $XDG_CONFIG_HOME (a home folder, say)."""
    marker = tmp_path / "ran"
    binary = fake_checkov(checkout / "tools" / "checkov", marker)
    xdg = checkout / ".config"
    (xdg / "atlascan").mkdir(parents=True)
    (xdg / "atlascan" / "config.toml").write_text(f'with-checkov = true\ncheckov-bin = "{binary}"\n', "utf-8")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(xdg))
    _, data = run(checkout, capsys)
    assert not marker.exists()
    assert "`with-checkov` in .config/atlascan/config.toml was ignored" in messages(data)
