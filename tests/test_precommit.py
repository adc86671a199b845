"""The published pre-commit hook, installed and run by the real pre-commit."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

pytestmark = pytest.mark.slow

PRE_COMMIT = shutil.which("pre-commit") or str(Path(sys.executable).parent / "pre-commit")


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not Path(PRE_COMMIT).exists():
        pytest.skip("pre-commit is not installed (pip install -e '.[test]')")
    return tmp_path_factory.mktemp("pre-commit-home")


def _try_repo(project: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PRE_COMMIT_HOME": str(home), "PRE_COMMIT_COLOR": "never"}
    return subprocess.run(
        [PRE_COMMIT, "try-repo", str(ROOT), "atlascan", "--all-files", "--verbose"],
        cwd=project, env=env, capture_output=True, text=True, timeout=900,
    )


def test_manifest_is_valid() -> None:
    if not Path(PRE_COMMIT).exists():
        pytest.skip("pre-commit is not installed")
    out = subprocess.run([PRE_COMMIT, "validate-manifest", str(ROOT / ".pre-commit-hooks.yaml")], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_hook_fails_on_vulnerable_and_passes_on_clean(tmp_path: Path, home: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    _git(project, "init", "-q")
    _git(project, "config", "user.email", "t@example.com")
    _git(project, "config", "user.name", "t")
    (project / "clean.py").write_text("print('hello')\n", "utf-8")
    _git(project, "add", ".")
    clean = _try_repo(project, home)
    assert clean.returncode == 0, clean.stdout + clean.stderr

    (project / "train.py").write_text('HF_TOKEN = "hf_9jYg7SjjPvttfbfMLZuPjII4OoaQmzBinn"\n', "utf-8")
    _git(project, "add", ".")
    dirty = _try_repo(project, home)
    assert dirty.returncode == 1, dirty.stdout + dirty.stderr
    assert "ATS-SEC-002" in dirty.stdout
    assert "hf_9jYg7SjjPvttfbfMLZuPjII4OoaQmzBinn" not in dirty.stdout
