"""A hostile repository's programs: nothing found inside the scanned tree or its git
repository runs. Each fake `checkov` here writes a marker file when run; the marker must
never appear."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from atlascan.cli import main
from test_checkov_output import DATA

TOKEN_LINE = 'HF_TOKEN = "hf_AbCdEfGhIjKlMnOpQrStUvWxYz01234567"\n'


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
